"""The examples' large (GPU) configurations compile for sm_80 and sm_90a; no GPU needed."""
import importlib.util

import pytest

import tilelang

from test_examples import load


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


pytestmark = pytest.mark.skipif(
    not (_have("tilelang.backend.cuda.pipeline") and _have("tilelang.backend.cuda.codegen") and _have("cuda.bindings")),
    reason="the CUDA compiler (passes, codegen, NVRTC) is not installed")

FACTORIES = {"gemm": "matmul", "gemm_epilogue": "matmul_bias_relu", "softmax": "softmax", "rmsnorm": "rmsnorm",
             "flash_attention": "flash_attention", "dequant_gemm_int4": "dequant_matmul"}


@pytest.fixture(autouse=True)
def private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("TILELANG_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("arch", ["sm_80", "sm_90a"])
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_large_configuration_compiles(name, arch):
    module = load(name)
    func = getattr(module, FACTORIES[name]).get_tir(**module.SIZES["large"])
    kernel = tilelang.compile(func, out_idx=[-1], target=f"cuda -arch={arch}")
    assert "__global__" in kernel.get_kernel_source()


def test_causal_flash_attention_compiles_for_sm_90a():
    module = load("flash_attention")
    func = module.flash_attention.get_tir(**module.SIZES["large"], causal=True)
    tilelang.compile(func, out_idx=[-1], target="cuda -arch=sm_90a")
