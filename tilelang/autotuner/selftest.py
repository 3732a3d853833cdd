"""Check the autotuner end to end on this machine: `python -m tilelang.autotuner.selftest`.

Tunes a GEMM over a grid of tile sizes (on the GPU when torch sees one, else a small one on
the CPU interpreter), checks every candidate against torch, prints the best config, its
latency and torch's, then tunes again and checks that the second run is a cache read.
Exit status 0 when everything holds.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
import tilelang.language as T
from . import AutoTuner


def gemm(M, N, K, block_M=128, block_N=128, block_K=32, num_stages=2, threads=128):
    """The tuned factory (module level, so worker processes can import it)."""

    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), "float16")
            B_s = T.alloc_shared((block_K, block_N), "float16")
            C_f = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[k * block_K, bx * block_N], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[by * block_M, bx * block_N])

    return main


def configs(device: str) -> list:
    if device == "cpu":
        return [{"block_M": m, "block_N": n} for m, n in itertools.product([32, 64], [32, 64])]
    grid = itertools.product([64, 128], [64, 128, 256], [32, 64], [2, 3], [128, 256])
    return [dict(block_M=m, block_N=n, block_K=k, num_stages=s, threads=t) for m, n, k, s, t in grid]


def main(argv=None) -> int:
    import torch


    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=None, help="M = N = K (default 4096 on the GPU, 128 on the CPU)")
    parser.add_argument("--keep-cache", action="store_true",
                        help="use $TILELANG_CACHE_DIR instead of a fresh temporary cache")
    parser.add_argument("--workers", type=int, default=None, help="compile processes (default: min(8, cpus))")
    args = parser.parse_args(argv)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    n = args.size or (4096 if device == "cuda" else 128)
    if not args.keep_cache:
        os.environ["TILELANG_CACHE_DIR"] = tempfile.mkdtemp(prefix="tilelang-selftest-")
    space = configs(device)
    print(f"autotuner selftest: gemm {n}x{n}x{n} fp16 on {device}, {len(space)} configs, "
          f"cache {os.environ.get('TILELANG_CACHE_DIR', '~/.cache/tilelang')}")

    def tune():
        tuner = (AutoTuner.from_kernel(kernel=gemm, configs=space)
                 .set_compile_args(out_idx=[-1], target="auto")
                 .set_profile_args(ref_prog=lambda a, b: a @ b, rtol=1e-2, atol=1e-1,
                                   warmup=25 if device == "cuda" else 0, rep=100 if device == "cuda" else 1,
                                   cache_input_tensors=True))
        tuner.set_kernel_parameters((n, n, n))
        tuner.num_workers = args.workers
        start = time.perf_counter()
        result = tuner.run()
        return result, time.perf_counter() - start

    first, t1 = tune()
    print(f"best config {first.config}: {first.latency:.4f} ms; torch {first.ref_latency or float('nan'):.4f} ms; "
          f"{len(first.latencies)} ran, {len(first.skipped)} skipped; tuning took {t1:.1f} s")
    for config, reason in first.skipped:
        print(f"  skipped {config}: {reason}")
    if device == "cuda":
        tflops = 2 * n ** 3 / first.latency * 1e-9
        print(f"  {tflops:.1f} TFLOPS, {first.ref_latency / first.latency:.2f}x torch")
    second, t2 = tune()
    ok = True
    if not second.from_cache or second.config != first.config:
        print(f"FAIL: the second run was not a cache read (from_cache={second.from_cache})")
        ok = False
    else:
        print(f"second run: cache read in {t2:.2f} s (first run {t1:.1f} s)")
    a = torch.randn(n, n, device=device).half()
    b = torch.randn(n, n, device=device).half()
    try:
        torch.testing.assert_close(second.kernel(a, b).float(), (a @ b).float(), rtol=1e-2, atol=1e-1)
    except AssertionError as e:
        print(f"FAIL: the cached kernel gives wrong results: {e}")
        ok = False
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
