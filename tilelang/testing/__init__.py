"""Helpers for tests of TileLang programs: skip markers, seeding, tensor comparison.

    import tilelang.testing

    @tilelang.testing.requires_cuda
    def test_gemm(): ...

    if __name__ == "__main__":
        tilelang.testing.main()
"""
from __future__ import annotations

import functools
import importlib.util
import inspect
import random
import sys

from ..utils.tensor import torch_assert_close  # noqa: F401
from ..target import cuda_available

__all__ = ["main", "set_random_seed", "torch_assert_close", "requires_cuda", "requires_cuda_compiler",
           "requires_package", "requires_cuda_compute_version", "requires_cuda_compute_version_ge",
           "requires_cuda_compute_version_gt", "requires_cuda_compute_version_eq",
           "requires_cuda_compute_version_lt", "requires_cuda_compute_version_le", "cuda_compute_version"]


def main():
    """Run the calling test file with pytest (`python test_x.py [pytest args]`)."""
    import pytest

    test_file = inspect.getsourcefile(sys._getframe(1))
    sys.exit(pytest.main([test_file] + sys.argv[1:]))


def set_random_seed(seed: int = 42) -> None:
    """Seed Python, numpy and torch (all devices)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _skipif(condition: bool, reason: str):
    import pytest

    return pytest.mark.skipif(condition, reason=reason)


def _cuda_available() -> bool:

    return cuda_available()


def cuda_compute_version() -> tuple:
    """(major, minor) of the current GPU, or (0, 0) without one."""
    if not _cuda_available():
        return (0, 0)
    import torch

    return tuple(torch.cuda.get_device_capability())


def _mark(condition_fn, reason: str):
    """A decorator usable bare (`@requires_x`); the condition is evaluated at decoration time."""

    def decorate(func):
        return _skipif(not condition_fn(), reason)(func)

    return decorate


def requires_cuda(func):
    """Skip unless a CUDA GPU is visible to torch."""
    return _mark(_cuda_available, "needs a CUDA GPU")(func)


def _nvrtc_available() -> bool:
    return importlib.util.find_spec("cuda") is not None and (
        importlib.util.find_spec("nvidia") is not None or importlib.util.find_spec("cuda.bindings") is not None)


def requires_cuda_compiler(func):
    """Skip unless the CUDA compiler (NVRTC through cuda-bindings) is installed; no GPU needed."""
    return _mark(_nvrtc_available, "needs cuda-bindings and nvidia-cuda-nvrtc")(func)


def requires_package(*names):
    """Skip unless every named package can be imported."""
    missing = [n for n in names if importlib.util.find_spec(n) is None]

    def decorate(func):
        return _skipif(bool(missing), f"needs package(s) {', '.join(missing)}")(func)

    return decorate


_COMPARE = {"ge": lambda a, b: a >= b, "gt": lambda a, b: a > b, "eq": lambda a, b: a == b,
            "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}


def requires_cuda_compute_version(major_version: int, minor_version: int = 0, mode: str = "ge"):
    """Skip unless a GPU is present and its compute capability compares `mode` to (major, minor)."""
    if mode not in _COMPARE:
        raise ValueError(f"mode must be one of {sorted(_COMPARE)}, got {mode!r}")
    want = (major_version, minor_version)

    def decorate(func):
        have = cuda_compute_version()
        ok = have != (0, 0) and _COMPARE[mode](have, want)
        return _skipif(not ok, f"needs a GPU with compute capability {mode} {want[0]}.{want[1]} "
                               f"(have {have[0]}.{have[1]})")(func)

    return decorate


requires_cuda_compute_version_ge = functools.partial(requires_cuda_compute_version, mode="ge")
requires_cuda_compute_version_gt = functools.partial(requires_cuda_compute_version, mode="gt")
requires_cuda_compute_version_eq = functools.partial(requires_cuda_compute_version, mode="eq")
requires_cuda_compute_version_lt = functools.partial(requires_cuda_compute_version, mode="lt")
requires_cuda_compute_version_le = functools.partial(requires_cuda_compute_version, mode="le")
