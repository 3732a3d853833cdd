"""Helpers for the profiler tests: a tiny prim_func and a kernel stand-in computing with torch."""
import importlib.util

import pytest

import tilelang.language as T


def cpu_backend_available() -> bool:
    return importlib.util.find_spec("tilelang.backend.cpu") is not None


requires_cpu_backend = pytest.mark.skipif(not cpu_backend_available(), reason="CPU backend not built yet")


def add_one_func(n=16, dtype="float32"):
    @T.prim_func
    def add_one(A: T.Tensor((n,), dtype), B: T.Tensor((n,), dtype)):
        with T.Kernel(1, threads=n) as bx:
            for i in T.Parallel(n):
                B[i] = A[i] + 1

    return add_one


class FakeKernel:
    """Looks like a JITKernel on the CPU: params, out_idx, a call computing `fn` with torch."""

    def __init__(self, func, fn, out_idx):
        self.params = func.params
        self.out_idx = out_idx
        self._default_kind = "cpu"
        self.fn = fn
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)

