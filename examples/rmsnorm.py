"""RMSNorm: y = x / sqrt(mean(x^2) + eps) * w, one block per block_M rows.

    python examples/rmsnorm.py                # GPU when available, else the CPU interpreter
    python examples/rmsnorm.py --size small
"""
import argparse

import torch

import tilelang
import tilelang.language as T

# Problem sizes and the rows per block used for each (one row per block on wide rows).
SIZES = {"small": dict(M=256, N=512, block_M=4), "large": dict(M=16384, N=4096, block_M=1)}


@tilelang.jit(out_idx=[2])
def rmsnorm(M, N, block_M=4, threads=128, eps=1e-6):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float16"), W: T.Tensor((N,), "float16"), Y: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(M, block_M), threads=threads) as bx:
            x = T.alloc_fragment((block_M, N), "float32")
            sq = T.alloc_fragment((block_M, N), "float32")
            inv_rms = T.alloc_fragment((block_M,), "float32")
            T.copy(X[bx * block_M, 0], x)
            for i, j in T.Parallel(block_M, N):
                sq[i, j] = x[i, j] * x[i, j]
            T.reduce_sum(sq, inv_rms, dim=1)
            for i in T.Parallel(block_M):
                inv_rms[i] = T.rsqrt(inv_rms[i] / N + eps)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] * inv_rms[i] * W[j]
            T.copy(x, Y[bx * block_M, 0])

    return main


def reference(x, w, eps=1e-6):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(dim=1, keepdim=True) + eps) * w.float()).half()


def main(size=None):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = size or ("large" if device == "cuda" else "small")
    M, N = SIZES[size]["M"], SIZES[size]["N"]
    kernel = rmsnorm(**SIZES[size])

    profiler = kernel.get_profiler(tilelang.TensorSupplyType.Randn)
    profiler.assert_allclose(reference, rtol=1e-2, atol=1e-2)

    budget = {} if device == "cuda" else dict(warmup=1, rep=20)
    ms = profiler.do_bench(**budget)
    ref_ms = profiler.do_bench(reference, **budget)
    print(f"rmsnorm {M}x{N} on {device}: {ms:.3f} ms ({2 * M * N * 2 / ms * 1e-6:.0f} GB/s); "
          f"torch (unfused) {ref_ms:.3f} ms")
    return {"ms": ms, "ref_ms": ref_ms}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=None,
                        help="problem size (default: large on the GPU, small on the CPU)")
    main(**vars(parser.parse_args()))
