"""Flash attention forward: O = softmax(Q K^T / sqrt(D)) V without materialising the S x S scores.

Each block owns block_M query rows; it streams K and V in block_N-row tiles, keeps a running
row max and row sum (online softmax) and rescales the output accumulator as the max grows.

    python examples/flash_attention.py                 # GPU when available, else the CPU interpreter
    python examples/flash_attention.py --size small --causal
"""
import argparse
import math

import torch

import tilelang
import tilelang.language as T

# Problem sizes and the tile configuration used for each.
SIZES = {
    "small": dict(batch=1, heads=2, seq_len=128, dim=64, block_M=64, block_N=64, num_stages=1, threads=128),
    "large": dict(batch=4, heads=32, seq_len=4096, dim=128, block_M=128, block_N=128, num_stages=2, threads=256),
}


# fast math: T.exp2 is one ex2.approx instruction (results below 2^-126 flush to 0, which the
# softmax weights never need)
@tilelang.jit(out_idx=[3], pass_configs={tilelang.PassConfigKey.TL_ENABLE_FAST_MATH: True})
def flash_attention(batch, heads, seq_len, dim, causal=False, block_M=64, block_N=64, num_stages=1, threads=128):
    scale = 1.44269504 / math.sqrt(dim)  # fold log2(e) in: exp(x) == exp2(x * log2(e))
    shape = [batch, heads, seq_len, dim]
    dtype, accum = "float16", "float32"

    @T.prim_func
    def main(Q: T.Tensor(shape, dtype), K: T.Tensor(shape, dtype), V: T.Tensor(shape, dtype),
             O: T.Tensor(shape, dtype)):
        with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=threads) as (bid, by, bz):
            # causal blocks run longest-first (the last query rows see the most keys), so the
            # short ones fill the tail of the grid
            bx = T.ceildiv(seq_len, block_M) - 1 - bid if causal else bid
            Q_shared = T.alloc_shared([block_M, dim], dtype)
            K_shared = T.alloc_shared([block_N, dim], dtype)
            V_shared = T.alloc_shared([block_N, dim], dtype)
            scores = T.alloc_fragment([block_M, block_N], accum)
            probs = T.alloc_fragment([block_M, block_N], dtype)
            acc_o = T.alloc_fragment([block_M, dim], accum)
            row_max = T.alloc_fragment([block_M], accum)
            row_max_prev = T.alloc_fragment([block_M], accum)
            rescale = T.alloc_fragment([block_M], accum)
            block_sum = T.alloc_fragment([block_M], accum)
            row_sum = T.alloc_fragment([block_M], accum)

            T.copy(Q[bz, by, bx * block_M:(bx + 1) * block_M, :], Q_shared)
            T.fill(acc_o, 0)
            T.fill(row_sum, 0)
            T.fill(row_max, -T.infinity(accum))
            # With a causal mask, key tiles past the last query row of this block contribute nothing.
            n_tiles = (T.min(T.ceildiv(seq_len, block_N), T.ceildiv((bx + 1) * block_M, block_N)) if causal
                       else T.ceildiv(seq_len, block_N))
            for k in T.Pipelined(n_tiles, num_stages=num_stages):
                T.copy(K[bz, by, k * block_N:(k + 1) * block_N, :], K_shared)
                T.clear(scores)
                T.gemm(Q_shared, K_shared, scores, transpose_B=True, policy=T.GemmWarpPolicy.FullRow)
                if causal and (k + 1) * block_N > bx * block_M:  # only tiles that cross the diagonal
                    for i, j in T.Parallel(block_M, block_N):
                        scores[i, j] = T.if_then_else(bx * block_M + i >= k * block_N + j, scores[i, j],
                                                      -T.infinity(accum))
                T.copy(row_max, row_max_prev)
                T.reduce_max(scores, row_max, dim=1, clear=False)  # the running max over all tiles so far
                for i in T.Parallel(block_M):
                    rescale[i] = T.exp2(row_max_prev[i] * scale - row_max[i] * scale)
                for i, j in T.Parallel(block_M, block_N):
                    scores[i, j] = T.exp2(scores[i, j] * scale - row_max[i] * scale)
                T.reduce_sum(scores, block_sum, dim=1)
                for i in T.Parallel(block_M):
                    row_sum[i] = row_sum[i] * rescale[i] + block_sum[i]
                T.copy(scores, probs)
                for i, j in T.Parallel(block_M, dim):
                    acc_o[i, j] *= rescale[i]
                T.copy(V[bz, by, k * block_N:(k + 1) * block_N, :], V_shared)
                T.gemm(probs, V_shared, acc_o, policy=T.GemmWarpPolicy.FullRow)
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] /= row_sum[i]
            T.copy(acc_o, O[bz, by, bx * block_M:(bx + 1) * block_M, :])

    return main


def reference(q, k, v, causal=False):
    scores = q.float() @ k.float().transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n = scores.shape[-1]
        scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return (torch.softmax(scores, dim=-1) @ v.float()).half()


def main(size=None, causal=False):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = size or ("large" if device == "cuda" else "small")
    shape = SIZES[size]
    kernel = flash_attention(**shape, causal=causal)

    profiler = kernel.get_profiler(tilelang.TensorSupplyType.Randn)
    profiler.assert_allclose(lambda q, k, v: reference(q, k, v, causal), rtol=1e-2, atol=1e-2)

    budget = {} if device == "cuda" else dict(warmup=1, rep=20)
    ms = profiler.do_bench(**budget)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    ref_ms = profiler.do_bench(lambda q, k, v: sdpa(q, k, v, is_causal=causal), **budget)
    b, h, s, d = (shape[k] for k in ("batch", "heads", "seq_len", "dim"))
    flops = 4 * b * h * s * s * d * (0.5 if causal else 1.0)
    print(f"flash attention B{b} H{h} S{s} D{d}{' causal' if causal else ''} on {device}: {ms:.3f} ms "
          f"({flops / ms * 1e-9:.2f} TFLOPS); torch SDPA {ref_ms:.3f} ms")
    return {"ms": ms, "ref_ms": ref_ms}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default=None,
                        help="problem size (default: large on the GPU, small on the CPU)")
    parser.add_argument("--causal", action="store_true", help="mask keys after each query")
    main(**vars(parser.parse_args()))
