"""Compilation targets: "cpu", "cuda", "cuda -arch=sm_80", "cuda -arch=sm_90a", or "auto".

`Target` is what the user named; `TargetDescription` is what a backend says its device can do.
Target-neutral passes and layout rules ask the description (`target.warpgroup_mma`, ...), never
an architecture number: the backend that knows the device fills it in.
"""
from __future__ import annotations

import dataclasses
import functools

from .errors import TileLangValueError


@dataclasses.dataclass(frozen=True)
class Target:
    kind: str               # "cpu" | "cuda"
    arch: str | None = None  # "sm_80", "sm_90a", ... (cuda only; None = the local GPU's)

    def __str__(self) -> str:
        return self.kind if self.arch is None else f"{self.kind} -arch={self.arch}"


@dataclasses.dataclass(frozen=True)
class TargetDescription:
    """What the compiler may use on the device it compiles for (filled in by the backend)."""
    name: str                        # for messages and cache keys: "cuda sm_90a"
    arch: str | None = None          # the backend's own name for the device ("sm_90a")
    warp_size: int = 32
    mma: bool = False                # warp-level tensor-core MMA (mma.sync)
    warpgroup_mma: bool = False      # warpgroup MMA reading shared memory through descriptors (wgmma)
    async_copy: bool = False         # asynchronous global -> shared copies with commit / wait groups (cp.async)
    bulk_copy: bool = False          # tensor-map bulk copies completing on mbarriers (TMA)
    barrier_init_fence: bool = False  # mbarrier initialisation must be fenced before other threads use it
    register_reallocation: bool = False  # warpgroups may move registers between them (setmaxnreg)
    max_shared_bytes: int = 48 * 1024   # dynamic shared memory one block may use

    def __str__(self) -> str:
        return self.name


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
