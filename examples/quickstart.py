"""Quickstart: a tiled GEMM with a fused ReLU, then a row softmax, checked against torch.

    python examples/quickstart.py            # on the GPU when torch sees one, else on the CPU

On the CPU the kernels run in tilelang's reference interpreter, so the sizes are kept small.
"""
import argparse

import torch

import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[2])
def matmul_relu(M, N, K, block_M=128, block_N=128, block_K=32, dtype="float16", accum_dtype="float32"):
    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared((block_K, block_N), dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=3):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local)
            for i, j in T.Parallel(block_M, block_N):
                C_local[i, j] = T.max(C_local[i, j], 0)
            T.copy(C_local, C[by * block_M, bx * block_N])

    return main


@tilelang.jit(out_idx=[1])
def softmax(M, N, block_M=4, dtype="float16"):
    @T.prim_func
    def main(X: T.Tensor((M, N), dtype), Y: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
            x = T.alloc_fragment((block_M, N), "float32")
            row_max = T.alloc_fragment((block_M,), "float32")
            row_sum = T.alloc_fragment((block_M,), "float32")
            T.copy(X[bx * block_M, 0], x)
            T.reduce_max(x, row_max, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = T.exp(x[i, j] - row_max[i])
            T.reduce_sum(x, row_sum, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] / row_sum[i]
            T.copy(x, Y[bx * block_M, 0])

    return main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    args = parser.parse_args(argv)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    M, N, K = (1024, 1024, 1024) if device == "cuda" else (256, 256, 128)

    torch.manual_seed(0)
    a = torch.randn(M, K, dtype=torch.float16, device=device)
    b = torch.randn(K, N, dtype=torch.float16, device=device)

    gemm = matmul_relu(M, N, K)
    c = gemm(a, b)
    c_ref = torch.relu(a.double() @ b.double())
    gemm_err = ((c.double() - c_ref).norm() / c_ref.norm()).item()

    norm = softmax(M, N)
    y = norm(c)
    y_ref = torch.softmax(c.double(), dim=1)
    softmax_err = ((y.double() - y_ref).norm() / y_ref.norm()).item()

    print(f"device: {device}  M={M} N={N} K={K}")
    print(f"gemm+relu   relative error vs torch (float64): {gemm_err:.2e}")
    print(f"row softmax relative error vs torch (float64): {softmax_err:.2e}")
    ok = gemm_err < 1e-2 and softmax_err < 1e-2
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
