"""The CUDA backend's description of each architecture it compiles for (see tilelang.target)."""
from __future__ import annotations

import functools

from ...target import TargetDescription

# opt-in dynamic shared memory per block (cudaDevAttrMaxSharedMemoryPerBlockOptin), by SM version
_SHARED_BYTES = {70: 96 * 1024, 75: 64 * 1024, 80: 163 * 1024, 86: 99 * 1024, 87: 163 * 1024, 89: 99 * 1024,
                 90: 227 * 1024, 100: 227 * 1024, 120: 99 * 1024}


def sm_version(arch: str) -> int:
    """80 for "sm_80", 90 for "sm_90a"."""
    return int("".join(c for c in arch[3:] if c.isdigit()))


@functools.lru_cache(maxsize=None)
def describe(arch: str) -> TargetDescription:
    """What code for `arch` ("sm_80", "sm_90a", ...) may use."""
    sm = sm_version(arch)
    shared = max((v for k, v in _SHARED_BYTES.items() if k <= sm), default=48 * 1024)
    return TargetDescription(
        name=f"cuda {arch}", arch=arch, mma=sm >= 80, warpgroup_mma=arch in ("sm_90a",),
        async_copy=sm >= 80, bulk_copy=sm >= 90, barrier_init_fence=sm >= 90,
        register_reallocation=sm >= 90, max_shared_bytes=shared)
