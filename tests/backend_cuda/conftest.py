"""Tests taking a `compiler` argument run once per CUDA compiler this machine has (NVRTC, nvcc)."""
import pytest

from tilelang.backend.cuda import toolchain


def pytest_generate_tests(metafunc):
    if "compiler" in metafunc.fixturenames:
        found = [c for c, ok in (("nvrtc", toolchain.nvrtc_version() is not None), ("nvcc", toolchain.nvcc_path() is not None)) if ok]
        params = found or [pytest.param(None, marks=pytest.mark.skip(reason="no CUDA compiler (NVRTC or nvcc)"))]
        metafunc.parametrize("compiler", params)
