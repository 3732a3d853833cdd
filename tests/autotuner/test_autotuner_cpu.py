"""The tuner end to end on real kernels run by the CPU backend."""
import importlib.util

import pytest
import torch

import tilelang
import tilelang.language as T

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tilelang.backend.cpu") is None, reason="no CPU backend")


@tilelang.autotune(configs={"block_M": [32, 64], "block_N": [32, 64]}, warmup=0, rep=1,
                   ref_prog=lambda a, b: (a.float() @ b.float()).half(), atol=1e-2, rtol=1e-2)
@tilelang.jit(out_idx=[-1], target="cpu")
def matmul(M, N, K, block_M=64, block_N=64, block_K=32):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), "float16")
            B_s = T.alloc_shared((block_K, block_N), "float16")
            C_f = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[k * block_K, bx * block_N], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[by * block_M, bx * block_N])

    return main


@pytest.fixture
def cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TILELANG_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("TILELANG_DISABLE_CACHE", raising=False)
    matmul.results.clear()
    return tmp_path


def test_tuning_a_cpu_gemm_then_reading_the_cache(cache_dir):
    kernel = matmul(128, 128, 64)
    result = matmul.best(128, 128, 64)
    assert result.kernel is kernel and not result.from_cache
    assert result.config in [{"block_M": m, "block_N": n} for m in (32, 64) for n in (32, 64)]
    assert len(result.latencies) == 4 and result.ref_latency is not None
    a, b = torch.randn(128, 64).half(), torch.randn(64, 128).half()
    torch.testing.assert_close(kernel(a, b).float(), a.float() @ b.float(), atol=1e-2, rtol=1e-2)
    matmul.results.clear()
    again = matmul.best(128, 128, 64)
    assert again.from_cache and again.config == result.config
    assert (cache_dir / "autotune").is_dir()


def test_selftest_passes_on_this_machine(monkeypatch, tmp_path, capsys):
    from tilelang.autotuner import selftest

    monkeypatch.setenv("TILELANG_CACHE_DIR", str(tmp_path))
    assert selftest.main(["--size", "64", "--keep-cache"]) == 0
    out = capsys.readouterr().out
    assert "best config" in out and "second run: cache read" in out and out.rstrip().endswith("OK")
