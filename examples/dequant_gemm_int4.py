"""Weight-only int4 GEMM: C = A @ dequant(B)^T, where B holds two signed 4-bit weights per byte
and each output column has an fp16 scale.

The packed tile is copied to shared memory as bytes, unpacked to fp16 in shared memory by a
T.Parallel loop, and fed to T.gemm; the scale is applied to the accumulator at the end.

    python examples/dequant_gemm_int4.py                # GPU when available, else the CPU interpreter
    python examples/dequant_gemm_int4.py --size small
"""
import argparse

import torch

import tilelang
import tilelang.language as T

# Problem sizes and the tile configuration used for each.
SIZES = {
    "small": dict(M=128, N=256, K=256, block_M=64, block_N=64, block_K=64),
    "large": dict(M=4096, N=8192, K=8192, block_M=128, block_N=128, block_K=64),
}


@tilelang.jit(out_idx=[-1])
def dequant_matmul(M, N, K, block_M=128, block_N=128, block_K=64, num_stages=2, threads=128):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K // 2), "uint8"), Scale: T.Tensor((N,), "float16"),
             C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), "float16")
            B_packed = T.alloc_shared((block_N, block_K // 2), "uint8")
            B_shared = T.alloc_shared((block_N, block_K), "float16")
            acc = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[bx * block_N, k * block_K // 2], B_packed)
                # Element j of a row is the low nibble (even j) or high nibble (odd j) of byte j // 2,
                # stored with an offset of 8: values 0..15 mean -8..7.
                for i, j in T.Parallel(block_N, block_K):
                    nibble = (T.cast(B_packed[i, j // 2], "int32") >> ((j % 2) * 4)) & 15
                    B_shared[i, j] = T.cast(nibble - 8, "float16")
                T.gemm(A_shared, B_shared, acc, transpose_B=True)
            for i, j in T.Parallel(block_M, block_N):
                acc[i, j] = acc[i, j] * Scale[bx * block_N + j]
            T.copy(acc, C[by * block_M, bx * block_N])

    return main


def pack_int4(w):
    """(N, K) integers in [-8, 7] -> (N, K // 2) uint8, even k in the low nibble."""
    u = (w + 8).to(torch.uint8)
    return u[:, 0::2] | (u[:, 1::2] << 4)


def unpack_int4(packed):
    low = (packed & 15).to(torch.int16) - 8
    high = (packed >> 4).to(torch.int16) - 8
    return torch.stack([low, high], dim=-1).reshape(packed.shape[0], -1)


def main(size=None):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = size or ("large" if device == "cuda" else "small")
    M, N, K = SIZES[size]["M"], SIZES[size]["N"], SIZES[size]["K"]
    kernel = dequant_matmul(**SIZES[size])

    a = torch.randn(M, K, device=device).half()
    w = torch.randint(-8, 8, (N, K), device=device)
    packed = pack_int4(w)
    assert torch.equal(unpack_int4(packed), w.to(torch.int16))
    scale = (torch.rand(N, device=device) * 0.02 + 0.01).half()

    def reference(a, packed, scale):
        return ((a.float() @ unpack_int4(packed).float().T) * scale.float()).half()

    c = kernel(a, packed, scale)
    torch.testing.assert_close(c.float(), reference(a, packed, scale).float(), rtol=1e-2, atol=2e-2)

    profiler = kernel.get_profiler()
    budget = {} if device == "cuda" else dict(warmup=1, rep=20)
    inputs = [a, packed, scale]
    ms = profiler.do_bench(input_tensors=inputs, **budget)
    w_half = (unpack_int4(packed).half() * scale[:, None])
    fp16_ms = profiler.do_bench(lambda a, *_: a @ w_half.T, input_tensors=inputs, **budget)
    print(f"int4 dequant gemm {M}x{N}x{K} on {device}: {ms:.3f} ms ({2 * M * N * K / ms * 1e-9:.2f} TFLOPS); "
          f"torch fp16 gemm on pre-dequantized weights {fp16_ms:.3f} ms")
    return {"ms": ms, "ref_ms": fp16_ms}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=None,
                        help="problem size (default: large on the GPU, small on the CPU)")
    main(**vars(parser.parse_args()))
