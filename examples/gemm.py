"""GEMM: C = A @ B in fp16 with fp32 accumulation, tiled over thread blocks and pipelined over K.

    python examples/gemm.py                 # on the GPU when torch sees one, else the CPU interpreter
    python examples/gemm.py --size small    # the size CI runs

Checked against torch; the speed comes from the profiler (on the CPU it only compares runs).
"""
import argparse

import torch

import tilelang
import tilelang.language as T

# Problem sizes and the tile configuration used for each.
SIZES = {
    "small": dict(M=256, N=256, K=128, block_M=64, block_N=64, block_K=32),
    "large": dict(M=8192, N=8192, K=8192, block_M=128, block_N=128, block_K=32, num_stages=3),
}


@tilelang.jit(out_idx=[-1])
def matmul(M, N, K, block_M=128, block_N=128, block_K=32, num_stages=3, threads=128, dtype="float16",
           accum_dtype="float32"):
    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), dtype)):
        # One block computes a block_M x block_N tile of C: bx walks the columns, by the rows.
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared((block_K, block_N), dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)
            T.clear(C_local)
            # Loads of step k+1.. overlap the multiply of step k (num_stages buffers in shared memory).
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local)
            T.copy(C_local, C[by * block_M, bx * block_N])

    return main


def main(size=None):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = size or ("large" if device == "cuda" else "small")
    M, N, K = SIZES[size]["M"], SIZES[size]["N"], SIZES[size]["K"]
    kernel = matmul(**SIZES[size])

    a = torch.randn(M, K, device=device).half()
    b = torch.randn(K, N, device=device).half()
    c = kernel(a, b)
    torch.testing.assert_close(c.float(), a.float() @ b.float(), rtol=1e-2, atol=1e-1)

    profiler = kernel.get_profiler()
    budget = {} if device == "cuda" else dict(warmup=1, rep=20)
    ms = profiler.do_bench(**budget)
    ref_ms = profiler.do_bench(lambda x, y: x @ y, **budget)
    tflops = 2 * M * N * K / ms * 1e-9
    print(f"gemm {M}x{N}x{K} on {device}: {ms:.3f} ms ({tflops:.2f} TFLOPS); torch {ref_ms:.3f} ms")
    return {"ms": ms, "ref_ms": ref_ms}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=None,
                        help="problem size (default: large on the GPU, small on the CPU)")
    main(**vars(parser.parse_args()))
