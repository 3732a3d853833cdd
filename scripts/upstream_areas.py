#!/usr/bin/env python3
"""Per-area pass rates of a run of the upstream corpus against the reference's own run.

    python scripts/upstream_areas.py OURS.json [REFERENCE.json] [--markdown]

Both files are `run_upstream.py --out` summaries. A test counts for an area only if the
reference passed it; the table gives how many of those ours passed, per area (the folder
under testing/python/, or "examples"), the issue each area belongs to, and the total.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared/upstream/reference_h200.json"

#: Which issue's goal each area counts towards (language surface: 9, Python API: 10, Hopper: 11).
ISSUE_OF_AREA = {
    **dict.fromkeys(["language", "math", "layout", "issue", "kernel", "components", "fastmath",
                     "debug", "analysis", "transform", "examples"], 9),
    **dict.fromkeys(["jit", "autotune", "profiler", "tools", "utils", "target", "runtime"], 10),
    "cuda": 11,
}


def area_of(path: str) -> str:
    parts = path.split("/")
    return parts[2] if parts[0] == "testing" and len(parts) > 3 else "examples"


def passed_ids(summary: dict) -> set[str]:
    return {t["id"] for f in summary["files"].values() for t in f["tests"] if t["outcome"] == "passed"}


def table(ours: dict, reference: dict) -> list[tuple[str, int, int, str]]:
    """Rows (area, ours passed of the reference's passes, reference passes, issue)."""
    mine = passed_ids(ours)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, f in reference["files"].items():
        for t in f["tests"]:
            if t["outcome"] == "passed":
                row = counts[area_of(path)]
                row[1] += 1
                row[0] += t["id"] in mine
    return sorted(((a, o, r, str(ISSUE_OF_AREA.get(a, "-"))) for a, (o, r) in counts.items()),
                  key=lambda row: (row[3], -row[2]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ours")
    ap.add_argument("reference", nargs="?", default=str(DEFAULT_REFERENCE))
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    rows = table(json.loads(Path(args.ours).read_text()), json.loads(Path(args.reference).read_text()))
    by_issue: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _, o, r, issue in rows:
        by_issue[issue][0] += o
        by_issue[issue][1] += r
    fmt = "| {} | {} | {} | {} | {} |" if args.markdown else "{:<12} {:>6} {:>6} {:>7} {:>6}"
    if args.markdown:
        print("| area | ours | reference | ratio | issue |\n| --- | ---: | ---: | ---: | ---: |")
    else:
        print(fmt.format("area", "ours", "ref", "ratio", "issue"))
    for area, o, r, issue in rows:
        print(fmt.format(area, o, r, f"{o / r:.0%}" if r else "-", issue))
    for issue, (o, r) in sorted(by_issue.items()):
        print(fmt.format(f"all of issue {issue}", o, r, f"{o / r:.0%}" if r else "-", issue))


if __name__ == "__main__":
    main()
