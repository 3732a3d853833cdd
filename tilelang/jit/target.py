"""Compilation targets: "cpu", "cuda", "cuda -arch=sm_80", "cuda -arch=sm_90a", or "auto"."""
from __future__ import annotations

import dataclasses
import functools

from ..errors import TileLangValueError


@dataclasses.dataclass(frozen=True)
class Target:
    kind: str               # "cpu" | "cuda"
    arch: str | None = None  # "sm_80", "sm_90a", ... (cuda only; None = the local GPU's)

    def __str__(self) -> str:
        return self.kind if self.arch is None else f"{self.kind} -arch={self.arch}"


@functools.lru_cache(maxsize=None)
def cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:  # pragma: no cover - torch missing or broken
        return False


def parse_target(target) -> Target | None:
    """A Target, or None for "auto" (decided by where the tensors live)."""
    if isinstance(target, Target):
        return target
    if target is None:
        return None
    text = str(target).strip()
    if text == "auto":
        return None
    parts = text.split()
    kind = parts[0]
    if kind in ("cpu", "c", "llvm"):
        return Target("cpu")
    if kind != "cuda":
        raise TileLangValueError(f"unknown target {target!r}; expected 'auto', 'cpu', 'cuda' or 'cuda -arch=sm_XX'")
    arch = None
    for p in parts[1:]:
        if p.startswith("-arch="):
            arch = p[len("-arch="):]
        elif p.startswith("-keys=") or p.startswith("-mcpu="):
            continue
        else:
            raise TileLangValueError(f"unknown option {p!r} in target {target!r}")
    if arch is not None and not (arch.startswith("sm_") and arch[3:5].isdigit()):
        raise TileLangValueError(f"bad CUDA arch {arch!r} in target {target!r}; expected e.g. sm_80 or sm_90a")
    return Target("cuda", arch)


def default_target() -> Target:
    return Target("cuda") if cuda_available() else Target("cpu")
