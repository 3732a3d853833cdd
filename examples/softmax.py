"""Row softmax: each block holds block_M whole rows in registers, reduces max and sum over the row.

    python examples/softmax.py                # GPU when available, else the CPU interpreter
    python examples/softmax.py --size small
"""
import argparse

import torch

import tilelang
import tilelang.language as T

# Problem sizes and the rows per block used for each (one row per block on wide rows).
SIZES = {"small": dict(M=256, N=512, block_M=4), "large": dict(M=16384, N=4096, block_M=1)}
LOG2E = 1.4426950408889634


@tilelang.jit(out_idx=[1])
def softmax(M, N, block_M=4, threads=128, dtype="float16"):
    @T.prim_func
    def main(X: T.Tensor((M, N), dtype), Y: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(M, block_M), threads=threads) as bx:
            x = T.alloc_fragment((block_M, N), "float32")
            row_max = T.alloc_fragment((block_M,), "float32")
            row_sum = T.alloc_fragment((block_M,), "float32")
            T.copy(X[bx * block_M, 0], x)  # loads cast fp16 -> fp32
            T.reduce_max(x, row_max, dim=1)  # every thread holding a row gets its max
            for i, j in T.Parallel(block_M, N):
                x[i, j] = T.exp2((x[i, j] - row_max[i]) * LOG2E)
            T.reduce_sum(x, row_sum, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] / row_sum[i]
            T.copy(x, Y[bx * block_M, 0])

    return main


def main(size=None):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = size or ("large" if device == "cuda" else "small")
    M, N = SIZES[size]["M"], SIZES[size]["N"]
    kernel = softmax(**SIZES[size])

    x = torch.randn(M, N, device=device).half()
    torch.testing.assert_close(kernel(x).float(), torch.softmax(x.float(), dim=1), rtol=1e-2, atol=1e-3)

    profiler = kernel.get_profiler()
    budget = {} if device == "cuda" else dict(warmup=1, rep=20)
    ms = profiler.do_bench(**budget)
    ref_ms = profiler.do_bench(lambda t: torch.softmax(t, dim=1), **budget)
    gbps = 2 * M * N * 2 / ms * 1e-6
    print(f"softmax {M}x{N} on {device}: {ms:.3f} ms ({gbps:.0f} GB/s); torch {ref_ms:.3f} ms")
    return {"ms": ms, "ref_ms": ref_ms}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=None,
                        help="problem size (default: large on the GPU, small on the CPU)")
    main(**vars(parser.parse_args()))
