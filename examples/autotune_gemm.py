"""Autotuning a GEMM: @tilelang.autotune over @tilelang.jit searches tile sizes and keeps the fastest.

    python examples/autotune_gemm.py                 # GPU when available, else the CPU interpreter
    python examples/autotune_gemm.py --size small

Candidates compile in parallel, each is checked against torch and timed; the best config is
cached on disk (under $TILELANG_CACHE_DIR/autotune), so running this again is a cache read.
"""
import argparse
import itertools

import torch

import tilelang
import tilelang.language as T

SIZES = {"small": 128, "large": 8192}


def get_configs(M, N, K, **_):
    """The search space: a callable gets the factory's fixed arguments."""
    if not torch.cuda.is_available():
        return [{"block_M": m, "block_N": n} for m, n in itertools.product([32, 64], [32, 64])]
    grid = itertools.product([64, 128], [64, 128, 256], [32, 64], [2, 3], [128, 256])
    return [dict(block_M=m, block_N=n, block_K=k, num_stages=s, threads=t) for m, n, k, s, t in grid]


def ref_program(a, b):
    return a @ b


@tilelang.autotune(configs=get_configs, ref_prog=ref_program, rtol=1e-2, atol=1e-1, cache_input_tensors=True)
@tilelang.jit(out_idx=[-1])
def matmul(M, N, K, block_M=128, block_N=128, block_K=32, num_stages=2, threads=128):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), "float16")
            B_shared = T.alloc_shared((block_K, block_N), "float16")
            C_local = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local)
            T.copy(C_local, C[by * block_M, bx * block_N])

    return main


def main(size=None):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = size or ("large" if device == "cuda" else "small")
    n = SIZES[size]
    if device == "cpu":  # interpreter timings are only relative: keep the budgets tiny
        matmul.warmup, matmul.rep = 0, 1
    # Tunable arguments omitted: tune (or read the cache) and return the best kernel.
    # matmul(n, n, n, block_M=64, block_N=64) would compile that one config without tuning.
    kernel = matmul(n, n, n)
    result = matmul.best(n, n, n)
    a = torch.randn(n, n, device=device).half()
    b = torch.randn(n, n, device=device).half()
    torch.testing.assert_close(kernel(a, b).float(), (a @ b).float(), rtol=1e-2, atol=1e-1)
    source = "cache" if result.from_cache else f"{len(result.latencies)} candidates, {len(result.skipped)} skipped"
    speedup = f" ({result.ref_latency / result.latency:.2f}x)" if result.ref_latency else ""
    print(f"gemm {n}^3 on {device}: best {result.config} at {result.latency:.4f} ms{speedup} vs torch "
          f"{result.ref_latency if result.ref_latency is not None else float('nan'):.4f} ms [{source}]")
    return {"ms": result.latency, "ref_ms": result.ref_latency, "config": result.config}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=None,
                        help="problem size (default: large on the GPU, small on the CPU)")
    main(**vars(parser.parse_args()))
