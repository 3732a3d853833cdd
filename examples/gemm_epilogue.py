"""GEMM with a fused epilogue: C = relu(A @ B + bias), applied to the accumulator before it leaves registers.

    python examples/gemm_epilogue.py                # GPU when available, else the CPU interpreter
    python examples/gemm_epilogue.py --size small
"""
import argparse

import torch

import tilelang
import tilelang.language as T

# Problem sizes and the tile configuration used for each.
SIZES = {
    "small": dict(M=256, N=192, K=128, block_M=64, block_N=64),
    "large": dict(M=8192, N=8192, K=8192, block_M=128, block_N=128),
}


@tilelang.jit(out_idx=[-1])
def matmul_bias_relu(M, N, K, block_M=128, block_N=128, block_K=32, num_stages=3, threads=128):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), bias: T.Tensor((N,), "float32"),
             C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), "float16")
            B_shared = T.alloc_shared((block_K, block_N), "float16")
            acc = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, acc)
            # The epilogue runs on the accumulator fragment: each thread touches only its own elements.
            for i, j in T.Parallel(block_M, block_N):
                acc[i, j] = T.max(acc[i, j] + bias[bx * block_N + j], 0)
            T.copy(acc, C[by * block_M, bx * block_N])  # casts to fp16; rows/columns past the edge are dropped

    return main


def reference(a, b, bias):
    return torch.relu(a.float() @ b.float() + bias).half()


def main(size=None):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = size or ("large" if device == "cuda" else "small")
    M, N, K = SIZES[size]["M"], SIZES[size]["N"], SIZES[size]["K"]
    kernel = matmul_bias_relu(**SIZES[size])

    profiler = kernel.get_profiler(tilelang.TensorSupplyType.Randn)
    profiler.assert_allclose(reference, rtol=1e-2, atol=1e-1)  # generates A, B, bias from the signature

    budget = {} if device == "cuda" else dict(warmup=1, rep=20)
    ms = profiler.do_bench(**budget)
    ref_ms = profiler.do_bench(lambda a, b, bias: torch.relu(torch.addmm(bias.half(), a, b)), **budget)
    print(f"gemm+bias+relu {M}x{N}x{K} on {device}: {ms:.3f} ms ({2 * M * N * K / ms * 1e-9:.2f} TFLOPS); "
          f"torch {ref_ms:.3f} ms")
    return {"ms": ms, "ref_ms": ref_ms}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=None,
                        help="problem size (default: large on the GPU, small on the CPU)")
    main(**vars(parser.parse_args()))
