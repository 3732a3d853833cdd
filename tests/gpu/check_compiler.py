"""GPU checks of CUDA-compiler features the conformance suite does not cover.

    python tests/gpu/check_compiler.py      (from the repository root)

Fragment cumsum, tile atomics from a replicated fragment, T.use_swizzle + fast math, a
warp-specialized TMA load (and the same with tl.disable_tma_lower), a cross-warp reduce with
clear=False, then three examples (int4 dequant GEMM small, GEMM and flash attention large, with
their timings). Prints PASS/FAIL per check and `N passed, M failed`.
"""
import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import torch
import tilelang
import tilelang.language as T

results = []


def check(name, fn):
    try:
        fn()
        results.append((name, None))
        print("PASS", name, flush=True)
    except Exception as e:
        results.append((name, e))
        print("FAIL", name, type(e).__name__, str(e)[:400], flush=True)
        traceback.print_exc()


@T.prim_func
def scan(A: T.Tensor((16, 64), "float32"), B: T.Tensor((16, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        f = T.alloc_fragment((16, 64), "float32")
        T.copy(A, f)
        T.cumsum(f, dim=1, reverse=True)
        T.copy(f, B)


def t_scan():
    k = tilelang.compile(scan, out_idx=[1], target="cuda")
    a = torch.randn(16, 64, device="cuda")
    ref = a.flip(1).cumsum(1).flip(1)
    torch.testing.assert_close(k(a), ref, rtol=1e-4, atol=1e-4)


@T.prim_func
def tile_atomic(X: T.Tensor((256, 64), "float32"), Out: T.Tensor((64,), "float32")):
    with T.Kernel(4, threads=128) as bx:
        x = T.alloc_fragment((64,), "float32")
        s = T.alloc_fragment((64, 64), "float32")
        T.copy(X[bx * 64, 0], s)
        T.reduce_sum(s, x, dim=0)
        T.atomic_add(Out[0:64], x)


def t_atomic():
    k = tilelang.compile(tile_atomic, target="cuda")
    x = torch.randn(256, 64, device="cuda")
    out = torch.zeros(64, device="cuda")
    k(x, out)
    torch.testing.assert_close(out, x.sum(0), rtol=1e-4, atol=1e-4)


@T.prim_func
def swz(A: T.Tensor((256, 200), "float32"), B: T.Tensor((256, 200), "float32")):
    with T.Kernel(T.ceildiv(200, 32), 8, threads=128) as (bx, by):
        T.use_swizzle(panel_size=4)
        for i, j in T.Parallel(32, 32):
            if bx * 32 + j < 200:
                B[by * 32 + i, bx * 32 + j] = T.exp2(A[by * 32 + i, bx * 32 + j])


def t_swizzle_fastmath():
    a = torch.randn(256, 200, device="cuda")
    for cfg in ({}, {"tl.enable_fast_math": True}):
        k = tilelang.compile(swz, out_idx=[1], target="cuda", pass_configs=cfg)
        torch.testing.assert_close(k(a), torch.exp2(a), rtol=1e-4, atol=1e-5)


def tma_kernel():
    @T.prim_func
    def tma(A: T.Tensor((256, 128), "float16"), B: T.Tensor((256, 128), "float16")):
        with T.Kernel(2, threads=256) as bx:
            A_s = T.alloc_shared((128, 128), "float16")
            bar = T.alloc_barrier(128)
            with T.ws(1):
                T.tma_copy(A[bx * 128:(bx + 1) * 128, 0:128], A_s, barrier=bar)
                T.mbarrier_arrive(bar)
            with T.ws(0):
                T.mbarrier_wait_parity(bar, 0)
                T.copy(A_s, B[bx * 128, 0])

    return tma


def t_tma():
    a = torch.randn(256, 128, device="cuda").half()
    for cfg in ({}, {"tl.disable_tma_lower": True}):
        k = tilelang.compile(tma_kernel(), out_idx=[1], target="cuda", pass_configs=cfg)
        assert ("tma_load_2d" in k.get_kernel_source()) == (not cfg)
        torch.testing.assert_close(k(a), a)


@T.prim_func
def rowmax_keep(X: T.Tensor((64, 512), "float32"), Y: T.Tensor((64,), "float32")):
    with T.Kernel(2, threads=256) as bx:
        x = T.alloc_fragment((32, 512), "float32")
        m = T.alloc_fragment((32,), "float32")
        T.fill(m, 0.5)
        T.copy(X[bx * 32, 0], x)
        T.reduce_max(x, m, dim=1, clear=False)
        T.copy(m, Y[bx * 32])


def t_reduce():
    k = tilelang.compile(rowmax_keep, out_idx=[1], target="cuda")
    x = torch.randn(64, 512, device="cuda") - 3
    torch.testing.assert_close(k(x), x.max(1).values.clamp(min=0.5))


for n, f in [("cumsum_fragment", t_scan), ("tile_atomic", t_atomic), ("swizzle_fastmath", t_swizzle_fastmath),
             ("tma_ws", t_tma), ("reduce_clear_false_cross_warp", t_reduce)]:
    check(n, f)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
for mod, size in (("dequant_gemm_int4", "small"), ("gemm", "large"), ("flash_attention", "large")):
    check(f"example {mod} {size}", lambda: __import__(mod).main(size))
fails = sum(1 for _, e in results if e is not None)
print(f"{len(results) - fails} passed, {fails} failed")
