"""GPU check of the sm_90a wgmma path: tl_wgmma.cuh through hand-written one-block kernels
(operands placed by tl::SmemLayout, registers read back through the Python fragment tables),
then TileLang GEMM programs compiled for target "cuda" against float64 references.

    python tests/gpu/check_wgmma.py [--compile-only]

Prints one line per case and `N passed, M failed` last; exit status 1 on any failure.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import numpy as np  # noqa: E402

from tilelang.layout.mma import (wgmma_accumulator, wgmma_n_width, wgmma_operand, wgmma_operand_a,  # noqa: E402
                                 wgmma_partition, _wgmma_swizzle)
from tilelang.layout.shared import swizzled  # noqa: E402
from tilelang.backend.cuda.lower.gemm import wgmma_operand_type  # noqa: E402

HAND = r"""
#include "tl_gemm.cuh"
#include "tl_wgmma.cuh"
typedef tl::{AB} ab_t;
extern "C" __global__ void __launch_bounds__({THREADS}) hand_kernel(const ab_t* A, const ab_t* B, const int* a_idx,
                                                                    float* out) {
  extern __shared__ __align__(1024) unsigned char smem[];
  ab_t* As = reinterpret_cast<ab_t*>(smem);
  ab_t* Bs = reinterpret_cast<ab_t*>(smem + {B_OFF});
  for (int i = threadIdx.x; i < {AR} * {AC}; i += {THREADS})
    As[tl::SmemLayout<{AR}, {AC}, {SWA}>::offset<ab_t>(i / {AC}, i % {AC})] = A[i];
  for (int i = threadIdx.x; i < {BR} * {BC}; i += {THREADS})
    Bs[tl::SmemLayout<{BR}, {BC}, {SWB}>::offset<ab_t>(i / {BC}, i % {BC})] = B[i];
  ab_t Af[{AREG}];
#pragma unroll
  for (int i = 0; i < {AREG}; ++i) Af[i] = A[a_idx[threadIdx.x * {AREG} + i]];
  __syncthreads();
  float C[{NREG}];
#pragma unroll
  for (int i = 0; i < {NREG}; ++i) C[i] = -1.0f;
  {CALL1}
  {CALL2}
#pragma unroll
  for (int i = 0; i < {NREG}; ++i) out[threadIdx.x * {NREG} + i] = C[i];
}
"""


def _fill(src, **kw):
    for k, v in kw.items():
        src = src.replace("{" + k + "}", str(v))
    return src


def hand_case(m, n, k, wgs, ta, tb, dtype="float16", rs=False, policy="Square", swap=False):
    """(name, source, meta) of a one-block kernel computing 2 * op(A) @ op(B) (clear, then
    accumulate). swap: B's descriptor with LBO and SBO exchanged (a diagnostic of the
    MN-major convention, expected to fail)."""
    wg_m, wg_n = wgmma_partition(policy, m, n, wgs)
    width = wgmma_n_width(n // wg_n)
    ashape = (k, m) if ta else (m, k)
    bshape = (k, n) if not tb else (n, k)
    swa = _wgmma_swizzle(ashape[1], 2, ta, 64)
    swb = _wgmma_swizzle(bshape[1], 2, not tb, width)
    descb = wgmma_operand(swizzled(bshape, 16, swb), 2, not tb, width)
    if swap:
        descb.lbo, descb.sbo = descb.sbo, descb.lbo
    opb = wgmma_operand_type(descb)
    ab = {"float16": "half_t", "bfloat16": "bfloat16_t"}[dtype]
    flag = lambda x: "true" if x else "false"  # noqa: E731
    head = f"{m}, {n}, {k}, {wg_m}, {wg_n}, {width}"
    if rs:
        afrag = wgmma_operand_a(m, k, wg_m, wg_n)
        calls = [f"tl::wgmma_gemm_rs<{head}, {flag(not tb)}, {flag(c)}, {opb}>(Af, Bs, C, threadIdx.x);"
                 for c in (True, False)]
        areg = afrag.num_registers
    else:
        opa = wgmma_operand_type(wgmma_operand(swizzled(ashape, 16, swa), 2, ta, 64))
        calls = [f"tl::wgmma_gemm_ss<{head}, {flag(ta)}, {flag(not tb)}, {flag(c)}, {opa}, {opb}>(As, Bs, C, "
                 f"threadIdx.x);" for c in (True, False)]
        areg, afrag = 1, None
    acc = wgmma_accumulator(m, n, wg_m, wg_n)
    threads = 128 * wgs
    b_off = -(-(ashape[0] * ashape[1] * 2) // 1024) * 1024
    src = _fill(HAND, AB=ab, THREADS=threads, B_OFF=b_off, AR=ashape[0], AC=ashape[1], SWA=swa, BR=bshape[0],
                BC=bshape[1], SWB=swb, AREG=areg, NREG=acc.num_registers, CALL1=calls[0], CALL2=calls[1])
    name = f"{'diag swapped-B ' if swap else ''}hand {'rs' if rs else 'ss'} {dtype} {m}x{n}x{k} wg{wg_m}x{wg_n} n{width} " \
           f"{'T' if ta else 'N'}{'T' if tb else 'N'} sw{swa}/{swb}"
    smem = b_off + bshape[0] * bshape[1] * 2
    return name, src, dict(m=m, n=n, k=k, ta=ta, tb=tb, dtype=dtype, acc=acc, afrag=afrag, areg=areg,
                           ashape=ashape, bshape=bshape, threads=threads, smem=smem)


HAND_CASES = [
    (64, 64, 64, 1, False, False), (64, 64, 64, 1, False, True), (64, 64, 64, 1, True, False),
    (128, 256, 64, 2, False, False), (128, 256, 64, 2, False, True), (128, 128, 32, 2, True, True),
    (128, 192, 64, 2, False, False), (64, 256, 64, 1, False, False), (128, 64, 128, 1, False, True),
    (64, 32, 16, 1, False, False), (256, 128, 64, 2, True, False),
]
HAND_RS = [(64, 64, 64, 1, False, False), (128, 128, 64, 2, False, False), (128, 64, 128, 1, False, True),
           (128, 128, 64, 2, False, True)]


def run_hand(torch, launcher_cls, arch, failures):
    from tilelang.backend.cuda.toolchain import build_cuda

    cases = [hand_case(*c) for c in HAND_CASES] + [hand_case(*HAND_CASES[3], dtype="bfloat16")]
    cases += [hand_case(*c, rs=True) for c in HAND_RS]
    cases += [hand_case(128, 256, 64, 2, False, False, policy="FullRow")]
    cases += [hand_case(64, 256, 64, 1, False, False, swap=True), hand_case(128, 128, 32, 2, True, True, swap=True)]
    ok = 0
    for name, src, meta in cases:
        try:
            # -v keeps NVRTC's log non-empty: toolchain.build_cuda fetches an empty log into
            # b" " * 1, the interpreter's shared one-byte object, and NVRTC's terminating NUL
            # then turns every b" " of the process into b"\0" (corrupting later generated code)
            res = build_cuda(src, arch, name="hand.cu", options=("--ptxas-options=-v",))
            cubin = res.cubin
            usage = [ln.strip() for ln in str(res.log).splitlines() if "registers" in ln or "spill" in ln]
        except Exception as e:  # noqa: BLE001
            print(f"FAIL build {name}: {str(e)[:2000]}", flush=True)
            failures.append(name)
            continue
        if torch is None:
            print(f"built {name}: {'; '.join(usage)}")
            ok += 1
            continue
        tdt = {"float16": torch.float16, "bfloat16": torch.bfloat16}[meta["dtype"]]
        a = torch.randn(meta["ashape"], device="cuda").to(tdt)
        b = torch.randn(meta["bshape"], device="cuda").to(tdt)
        nreg = meta["acc"].num_registers
        out = torch.full((meta["threads"] * nreg,), float("nan"), device="cuda")
        if meta["afrag"] is not None:
            ft, fr = meta["afrag"].table()
            idx = np.zeros((meta["threads"], meta["areg"]), np.int32)
            for q in range(meta["afrag"].replicate):
                tq = np.vectorize(lambda i, j: meta["afrag"].thread(i, j, rep=q))(*np.indices(ft.shape))
                idx[tq, fr] = np.arange(ft.size).reshape(ft.shape)
        else:
            idx = np.zeros((meta["threads"], 1), np.int32)
        idx_t = torch.from_numpy(idx).cuda()
        lau = launcher_cls(cubin, "hand_kernel", ["ptr", "ptr", "ptr", "ptr"], block=(meta["threads"],),
                           dynamic_smem=meta["smem"])
        lau((1, 1, 1), torch.cuda.current_stream().cuda_stream, a.data_ptr(), b.data_ptr(), idx_t.data_ptr(),
            out.data_ptr())
        torch.cuda.synchronize()
        th, rg = meta["acc"].table()
        got = out.cpu().numpy().reshape(meta["threads"], nreg)[th, rg].astype(np.float64)
        ad = (a.T if meta["ta"] else a).double().cpu().numpy()
        bd = (b.T if meta["tb"] else b).double().cpu().numpy()
        ref = 2 * ad @ bd
        err = np.linalg.norm(got - ref) / np.linalg.norm(ref) if np.isfinite(got).all() else float("inf")
        good = err < 2e-3
        if name.startswith("diag"):
            print(f"{'passes' if good else 'fails'}: {name}: rel err {err:.2e}", flush=True)
            continue
        print(f"{'PASS' if good else 'FAIL'} {name}: rel err {err:.2e}", flush=True)
        if good:
            ok += 1
        else:
            failures.append(name)
    return ok


def gemm_program(M, N, K, bm, bn, bk, stages, threads, ta, tb, dtype, policy):
    import tilelang.language as T

    pol = getattr(T.GemmWarpPolicy, policy)
    ashape, bshape = ((K, M) if ta else (M, K)), ((N, K) if tb else (K, N))
    as_, bs_ = ((bk, bm) if ta else (bm, bk)), ((bn, bk) if tb else (bk, bn))

    @T.prim_func
    def main(A: T.Tensor(ashape, dtype), B: T.Tensor(bshape, dtype), C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=threads) as (bx, by):
            A_s = T.alloc_shared(as_, dtype)
            B_s = T.alloc_shared(bs_, dtype)
            C_f = T.alloc_fragment((bm, bn), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=stages):
                if ta:
                    T.copy(A[k * bk, by * bm], A_s)
                else:
                    T.copy(A[by * bm, k * bk], A_s)
                if tb:
                    T.copy(B[bx * bn, k * bk], B_s)
                else:
                    T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, C_f, transpose_A=ta, transpose_B=tb, policy=pol)
            T.copy(C_f, C[by * bm, bx * bn])

    return main


PROGRAMS = [  # (bm, bn, bk, stages, threads, ta, tb, dtype, policy)
    (128, 256, 64, 3, 256, False, False, "float16", "Square"),
    (128, 256, 64, 3, 256, False, False, "float16", "FullRow"),
    (128, 128, 64, 3, 128, False, True, "float16", "Square"),
    (64, 128, 64, 2, 128, True, False, "float16", "Square"),
    (128, 128, 32, 4, 128, False, False, "bfloat16", "Square"),
    (128, 128, 64, 2, 256, True, True, "bfloat16", "FullCol"),
    (64, 64, 32, 2, 128, False, False, "float16", "Square"),
    (128, 192, 64, 3, 256, False, False, "float16", "Square"),
]


def run_programs(torch, target, failures):
    import tilelang

    ok = 0
    for cfg in PROGRAMS:
        bm, bn, bk, stages, threads, ta, tb, dtype, policy = cfg
        M, N, K = 2 * bm + 256, 3 * bn, 5 * bk + 128
        name = f"program {dtype} {bm}x{bn}x{bk} s{stages} t{threads} {'T' if ta else 'N'}{'T' if tb else 'N'} {policy}"
        try:
            kernel = tilelang.compile(gemm_program(M, N, K, bm, bn, bk, stages, threads, ta, tb, dtype, policy),
                                      out_idx=[2], target=target)
            src = kernel.get_kernel_source()
            if "tl::wgmma_gemm_ss" not in src:
                raise AssertionError("the kernel does not use wgmma")
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {name}: {type(e).__name__}: {str(e)[:1500]}", flush=True)
            failures.append(name)
            continue
        if torch is None:
            print(f"built {name}")
            ok += 1
            continue
        tdt = {"float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]
        a = torch.randn((K, M) if ta else (M, K), device="cuda").to(tdt)
        b = torch.randn((N, K) if tb else (K, N), device="cuda").to(tdt)
        c = kernel(a, b)
        torch.cuda.synchronize()
        ref = (a.T if ta else a).double() @ (b.T if tb else b).double()
        err = ((c.double() - ref).norm() / ref.norm()).item()
        good = err < 2e-3 and bool(torch.isfinite(c).all())
        print(f"{'PASS' if good else 'FAIL'} {name} ({M}x{N}x{K}): rel err {err:.2e}", flush=True)
        if good:
            ok += 1
        else:
            failures.append(name)
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compile-only", action="store_true")
    args = ap.parse_args()
    failures = []
    if args.compile_only:
        torch, launcher_cls, arch, target = None, None, "sm_90a", "cuda -arch=sm_90a"
    else:
        import torch

        from tilelang.backend.cuda.driver import Launcher as launcher_cls

        torch.manual_seed(0)
        arch, target = "sm_90a", "cuda"
    ok = run_programs(torch, target, failures)
    ok += run_hand(torch, launcher_cls, arch, failures)
    print(f"{ok} passed, {len(failures)} failed")
    for f in failures:
        print("  failed:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
