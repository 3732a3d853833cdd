"""Run every benchmark module and print one table at the end.

    python bench/run_all.py [-k SUBSTR]

Modules: bench/bench_*.py, bench/launch_overhead.py and bench/compile_time.py. Each has a
`main()` returning a list of rows {"benchmark", "ours", "reference", "ratio", "unit"}
(reference and ratio may be None). A module that fails adds a row saying so; the run goes on.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
FIXED = ("launch_overhead.py", "compile_time.py")


def modules() -> list[Path]:
    return sorted(HERE.glob("bench_*.py")) + [HERE / name for name in FIXED if (HERE / name).exists()]


def run_module(path: Path) -> list[dict]:
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        rows = module.main()
        return [dict(row, module=path.stem) for row in rows or []]
    except Exception as e:
        traceback.print_exc()
        return [{"benchmark": f"{path.stem}: FAILED ({type(e).__name__}: {str(e).splitlines()[0][:80] if str(e) else ''})",
                 "ours": None, "reference": None, "ratio": None, "unit": "", "module": path.stem}]


def fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def table(rows: list[dict]) -> str:
    header = ("benchmark", "ours", "reference", "ratio", "unit")
    cells = [header] + [tuple(fmt(r.get(k)) for k in header) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only modules whose name contains this")
    args = parser.parse_args(argv)
    rows = []
    for path in modules():
        if args.k in path.stem:
            print(f"== {path.name}", flush=True)
            rows += run_module(path)
    print()
    print(table(rows))
    return 1 if any("FAILED" in r["benchmark"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
