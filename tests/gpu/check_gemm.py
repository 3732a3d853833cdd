"""GPU check of tl_gemm.cuh through hand-written kernels (no dependency on the compiler).

Each kernel streams (BM, BK) / (BK, BN) tiles global -> shared with cp.async into STAGES
swizzled buffers and calls tl::gemm_ss (or gemm_rs); results are compared with float64
torch references. Prints PASS/FAIL per case, then TFLOPS for large fp16 problems next to
torch.matmul. `python tests/gpu/check_gemm.py [--compile-only] [--arch sm_80]`.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

try:
    from tilelang.backend.cuda.toolchain import build_cuda  # noqa: E402
except ImportError:  # older tree
    from tilelang.backend.cuda.build import build_cuda  # noqa: E402
from tilelang.layout.mma import mma_accumulator_atoms, mma_operand_a_atoms  # noqa: E402

CTYPE = {"float16": "tl::half_t", "bfloat16": "tl::bfloat16_t", "float32": "float", "int8": "int8_t",
         "int32": "int"}

GEMM_SOURCE = r"""
#include "tl.cuh"
#include "tl_gemm.cuh"

constexpr int BM = {BM}, BN = {BN}, BK = {BK}, WARP_M = {WARP_M}, WARP_N = {WARP_N}, STAGES = {STAGES};
constexpr int THREADS = WARP_M * WARP_N * 32, GROUP = {GROUP};
constexpr bool TRANS_A = {TRANS_A}, TRANS_B = {TRANS_B};
typedef {AB} ab_t;
typedef {ACC} acc_t;
typedef {OUT} out_t;
constexpr int A_ROWS = TRANS_A ? BK : BM, A_COLS = TRANS_A ? BM : BK;
constexpr int B_ROWS = TRANS_B ? BN : BK, B_COLS = TRANS_B ? BK : BN;
typedef tl::SmemLayout<A_ROWS, A_COLS, {SWZ_A}> LayoutA;
typedef tl::SmemLayout<B_ROWS, B_COLS, {SWZ_B}> LayoutB;
constexpr int MI = BM / WARP_M / 16, NI = BN / WARP_N / 8;

// Rows [r0, r0 + R) x cols [c0, c0 + L) of a row-major (rows, cols) matrix into a swizzled tile.
template <typename Layout>
__device__ __forceinline__ void load_tile(ab_t* smem, const ab_t* g, int r0, int c0, int rows, int cols) {
  constexpr int R = Layout::kRows, L = Layout::kCols, E = 16 / sizeof(ab_t), CH = R * L / E;
#pragma unroll
  for (int c = threadIdx.x; c < CH; c += THREADS) {
    int r = c / (L / E), col = (c % (L / E)) * E;
    bool ok = r0 + r < rows && c0 + col < cols;
    const ab_t* src = ok ? g + (long)(r0 + r) * cols + c0 + col : g;
    tl::cp_async_16_zfill(smem + Layout::template offset<ab_t>(r, col), src, ok);
  }
}

extern "C" __global__ void __launch_bounds__(THREADS) gemm_kernel(const ab_t* __restrict__ A,
    const ab_t* __restrict__ B, out_t* __restrict__ C, int M, int N, int K) {
  extern __shared__ __align__(128) unsigned char smem[];
  ab_t* As = reinterpret_cast<ab_t*>(smem);
  ab_t* Bs = As + STAGES * A_ROWS * A_COLS;
  // grouped rasterization: GROUP row blocks share the B tiles they read
  int grid_m = (M + BM - 1) / BM, grid_n = (N + BN - 1) / BN, pid = blockIdx.x;
  int width = GROUP * grid_n, first = pid / width * GROUP, size = min(grid_m - first, GROUP);
  int bm = first + (pid % width) % size, bn = (pid % width) / size;
  acc_t acc[MI * NI * 4];
#pragma unroll
  for (int i = 0; i < MI * NI * 4; ++i) acc[i] = acc_t(0);
  int KT = (K + BK - 1) / BK;
  auto issue = [&](int kt, int s) {
    if (TRANS_A) load_tile<LayoutA>(As + s * A_ROWS * A_COLS, A, kt * BK, bm * BM, K, M);
    else load_tile<LayoutA>(As + s * A_ROWS * A_COLS, A, bm * BM, kt * BK, M, K);
    if (TRANS_B) load_tile<LayoutB>(Bs + s * B_ROWS * B_COLS, B, bn * BN, kt * BK, N, K);
    else load_tile<LayoutB>(Bs + s * B_ROWS * B_COLS, B, kt * BK, bn * BN, K, N);
  };
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < KT) issue(s, s);
    tl::cp_async_commit();
  }
  for (int kt = 0; kt < KT; ++kt) {
    tl::cp_async_wait<STAGES - 2>();
    __syncthreads();
    int next = kt + STAGES - 1;
    if (next < KT) issue(next, next % STAGES);
    tl::cp_async_commit();
    int s = kt % STAGES;
    tl::gemm_ss<BM, BN, BK, WARP_M, WARP_N, TRANS_A, TRANS_B, false, LayoutA, LayoutB, {ACC_REGS}>(
        As + s * A_ROWS * A_COLS, Bs + s * B_ROWS * B_COLS, acc);
  }
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  int row0 = bm * BM + (warp % WARP_M) * (BM / WARP_M), col0 = bn * BN + (warp / WARP_M) * (BN / WARP_N);
#pragma unroll
  for (int mi = 0; mi < MI; ++mi)
#pragma unroll
    for (int ni = 0; ni < NI; ++ni)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        int r = row0 + mi * 16 + g + 8 * (c / 2), col = col0 + ni * 8 + 2 * t + c % 2;
        if (r < M && col < N) C[(long)r * N + col] = out_t(acc[(mi * NI + ni) * 4 + c]);
      }
}
"""

# S = Q K^T (gemm_ss, NT), P = half(S) (a per-register cast), O = P V (gemm_rs): one block of
# flash attention without the softmax. Q (BM, D), K (BN, D), V (BN, D), O (BM, D) per block.
RS_SOURCE = r"""
#include "tl.cuh"
#include "tl_gemm.cuh"

constexpr int BM = {BM}, BN = {BN}, D = {D}, WARP_M = {WARP_M}, THREADS = WARP_M * 32;
constexpr int MI = BM / WARP_M / 16;
typedef tl::SmemLayout<BM, D, 128> LayoutQ;
typedef tl::SmemLayout<BN, D, 128> LayoutKV;

template <typename Layout>
__device__ __forceinline__ void load_tile(tl::half_t* smem, const tl::half_t* g) {
  constexpr int R = Layout::kRows, L = Layout::kCols, E = 8, CH = R * L / E;
  for (int c = threadIdx.x; c < CH; c += THREADS) {
    int r = c / (L / E), col = (c % (L / E)) * E;
    tl::cp_async_16(smem + Layout::template offset<tl::half_t>(r, col), g + r * L + col);
  }
}

extern "C" __global__ void __launch_bounds__(THREADS) rs_kernel(const tl::half_t* Q, const tl::half_t* K,
    const tl::half_t* V, float* O) {
  extern __shared__ __align__(128) unsigned char smem[];
  tl::half_t* Qs = reinterpret_cast<tl::half_t*>(smem);
  tl::half_t* Ks = Qs + BM * D;
  tl::half_t* Vs = Ks + BN * D;
  int b = blockIdx.x;
  load_tile<LayoutQ>(Qs, Q + b * BM * D);
  load_tile<LayoutKV>(Ks, K + b * BN * D);
  load_tile<LayoutKV>(Vs, V + b * BN * D);
  tl::cp_async_commit();
  tl::cp_async_wait<0>();
  __syncthreads();
  float s[MI * (BN / 8) * 4];
  tl::gemm_ss<BM, BN, D, WARP_M, 1, false, true, true, LayoutQ, LayoutKV, {S_REGS}>(Qs, Ks, s);
  tl::half_t p[MI * (BN / 8) * 4];
#pragma unroll
  for (int i = 0; i < MI * (BN / 8) * 4; ++i) p[i] = tl::half_t(s[i]);
  float o[MI * (D / 8) * 4];
  tl::gemm_rs<BM, D, BN, WARP_M, 1, false, false, true, {P_REGS}, LayoutKV, {O_REGS}>(p, Vs, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  for (int mi = 0; mi < MI; ++mi)
    for (int ni = 0; ni < D / 8; ++ni)
      for (int c = 0; c < 4; ++c) {
        int r = warp * (BM / WARP_M) + mi * 16 + g + 8 * (c / 2), col = ni * 8 + 2 * t + c % 2;
        O[(b * BM + r) * D + col] = o[(mi * (D / 8) + ni) * 4 + c];
      }
}
"""


@dataclasses.dataclass
class Config:
    dtype: str = "float16"
    acc: str = "float32"
    out: str = "float32"
    bm: int = 64
    bn: int = 64
    bk: int = 32
    warp_m: int = 2
    warp_n: int = 2
    stages: int = 3
    trans_a: bool = False
    trans_b: bool = False
    swizzle: int = 1
    group: int = 8

    @property
    def threads(self) -> int:
        return self.warp_m * self.warp_n * 32

    def smem_bytes(self) -> int:
        elem = {"float16": 2, "bfloat16": 2, "float32": 4, "int8": 1}[self.dtype]
        return self.stages * (self.bm + self.bn) * self.bk * elem

    def name(self) -> str:
        t = ("T" if self.trans_a else "N") + ("T" if self.trans_b else "N")
        return (f"{self.dtype}->{self.acc} {t} {self.bm}x{self.bn}x{self.bk} warps {self.warp_m}x{self.warp_n} "
                f"stages {self.stages} swz {self.swizzle}")


def _ints(values) -> str:
    return f"tl::Ints<{', '.join(map(str, values))}>"


def _fill(src: str, **values) -> str:
    for k, v in values.items():
        src = src.replace("{" + k + "}", str(v))
    return src


def gemm_source(cfg: Config) -> str:
    return _fill(GEMM_SOURCE, BM=cfg.bm, BN=cfg.bn, BK=cfg.bk, WARP_M=cfg.warp_m, WARP_N=cfg.warp_n,
                 STAGES=cfg.stages, GROUP=cfg.group, TRANS_A=str(cfg.trans_a).lower(),
                 TRANS_B=str(cfg.trans_b).lower(), AB=CTYPE[cfg.dtype],
                 SWZ_A=swizzle_bytes(cfg.bm if cfg.trans_a else cfg.bk, cfg) if cfg.swizzle else 0,
                 SWZ_B=swizzle_bytes(cfg.bk if cfg.trans_b else cfg.bn, cfg) if cfg.swizzle else 0,
                 ACC="tl::half_t" if cfg.acc == "float16" else CTYPE[cfg.acc],
                 ACC_REGS=_ints(mma_accumulator_atoms(cfg.bm, cfg.bn, cfg.warp_m, cfg.warp_n,
                                                      16 if cfg.acc == "float16" else 32)),
                 OUT="tl::half_t" if cfg.out == "float16" else CTYPE[cfg.out])


def swizzle_bytes(cols: int, cfg: Config) -> int:
    """The widest swizzle dividing the stored row (tilelang.layout.best_shared_layout's choice)."""
    row = cols * {"float16": 2, "bfloat16": 2, "float32": 4, "int8": 1}[cfg.dtype]
    return next((sw for sw in (128, 64, 32) if row % sw == 0), 0)


def build(src: str, arch: str, name: str):
    res = build_cuda(src, arch, name=name, options=("-lineinfo",))
    return res


CORRECTNESS = [
    Config(),
    Config(trans_b=True),
    Config(trans_a=True),
    Config(trans_a=True, trans_b=True),
    Config(bm=128, bn=128, bk=32, warp_m=2, warp_n=2, stages=4),
    Config(bm=128, bn=256, bk=32, warp_m=2, warp_n=4, stages=3),
    Config(bm=128, bn=64, bk=64, warp_m=4, warp_n=1, stages=2),       # FullRow-like
    Config(bm=64, bn=128, bk=32, warp_m=1, warp_n=4, stages=2),       # FullCol-like
    Config(bm=64, bn=64, bk=16, warp_m=2, warp_n=2, stages=2),         # 32-byte rows
    Config(bm=64, bn=24, bk=32, warp_m=2, warp_n=1, stages=2),         # odd n8 count
    Config(swizzle=0),
    Config(trans_a=True, trans_b=True, swizzle=0),
    Config(dtype="bfloat16", out="bfloat16"),
    Config(dtype="bfloat16", trans_b=True),
    Config(dtype="float16", acc="float16", out="float16"),
    Config(dtype="int8", acc="int32", out="int32", bk=64, trans_b=True),
    Config(dtype="int8", acc="int32", out="int32", bk=64),
    Config(dtype="int8", acc="int32", out="int32", bk=64, trans_a=True),
    Config(dtype="float32", bk=16),
    Config(dtype="float32", bk=16, trans_b=True),
    Config(dtype="float32", bk=16, trans_a=True, trans_b=True),
]

PERF = [
    Config(dtype="float16", out="float16", bm=128, bn=256, bk=32, warp_m=2, warp_n=4, stages=3),
    Config(dtype="float16", out="float16", bm=128, bn=256, bk=32, warp_m=2, warp_n=4, stages=4),
    Config(dtype="float16", out="float16", bm=128, bn=256, bk=64, warp_m=2, warp_n=4, stages=3),
    Config(dtype="float16", out="float16", bm=256, bn=128, bk=32, warp_m=4, warp_n=2, stages=4),
    Config(dtype="float16", out="float16", bm=128, bn=128, bk=32, warp_m=2, warp_n=2, stages=4),
    Config(dtype="float16", out="float16", bm=128, bn=128, bk=64, warp_m=2, warp_n=2, stages=3),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compile-only", action="store_true")
    ap.add_argument("--arch", default=None)
    ap.add_argument("--no-perf", action="store_true")
    args = ap.parse_args()
    arch = args.arch
    if not args.compile_only:
        import torch

        arch = arch or "sm_%d%d" % torch.cuda.get_device_capability()
    arch = arch or "sm_80"
    failures = 0
    kernels = []
    for cfg in CORRECTNESS + PERF:
        t0 = time.perf_counter()
        try:
            res = build(gemm_source(cfg), arch, "gemm.cu")
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"FAIL build {cfg.name()}: {str(e)[:3000]}")
            failures += 1
            kernels.append(None)
            continue
        kernels.append(res.cubin)
        print(f"built {cfg.name()} in {time.perf_counter() - t0:.2f}s")
    rs_src = _fill(RS_SOURCE, BM=64, BN=64, D=64, WARP_M=4, S_REGS=_ints(mma_accumulator_atoms(64, 64, 4, 1)),
                   P_REGS=_ints(mma_operand_a_atoms(64, 64, 4, 1)), O_REGS=_ints(mma_accumulator_atoms(64, 64, 4, 1)))
    try:
        rs_cubin = build(rs_src, arch, "rs.cu").cubin
    except Exception as e:  # noqa: BLE001
        print(f"FAIL build gemm_rs: {str(e)[:3000]}")
        failures += 1
        rs_cubin = None
    if args.compile_only:
        print("compile-only:", "FAIL" if failures else "PASS")
        return 1 if failures else 0
    return run(arch, kernels, rs_cubin, failures, args.no_perf)


def run(arch, kernels, rs_cubin, failures, no_perf) -> int:
    import torch
    from tilelang.backend.cuda.driver import Launcher

    torch.manual_seed(0)
    dev = "cuda"
    tdt = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "int8": torch.int8,
           "int32": torch.int32}

    def launcher(cubin, cfg):
        return Launcher(cubin, "gemm_kernel", ["ptr", "ptr", "ptr", "i32", "i32", "i32"], block=(cfg.threads,),
                        dynamic_smem=cfg.smem_bytes())

    def rand(shape, dtype):
        if dtype == "int8":
            return torch.randint(-128, 128, shape, dtype=torch.int8, device=dev)
        return torch.randn(shape, device=dev).to(tdt[dtype])

    def run_gemm(lau, cfg, a, b, M, N, K, c=None):
        if c is None:
            c = torch.full((M, N), -7, device=dev).to(tdt[cfg.out])  # poison
        grid = ((M + cfg.bm - 1) // cfg.bm) * ((N + cfg.bn - 1) // cfg.bn)
        stream = torch.cuda.current_stream().cuda_stream
        lau((grid, 1, 1), stream, a.data_ptr(), b.data_ptr(), c.data_ptr(), M, N, K)
        return c

    for cfg, cubin in zip(CORRECTNESS, kernels):
        if cubin is None:
            continue
        lau = launcher(cubin, cfg)
        for (M, N, K) in ((256, 192, 160), (200, 136, 88), (cfg.bm, cfg.bn, cfg.bk)):
            if cfg.dtype == "int8":  # 16-byte aligned global rows for the cp.async loader
                M, N, K = (-(-x // 16) * 16 for x in (M, N, K))
            a = rand((K, M) if cfg.trans_a else (M, K), cfg.dtype)
            b = rand((N, K) if cfg.trans_b else (K, N), cfg.dtype)
            c = run_gemm(lau, cfg, a, b, M, N, K)
            torch.cuda.synchronize()
            ad = (a.T if cfg.trans_a else a).double()
            bd = (b.T if cfg.trans_b else b).double()
            ref = ad @ bd
            out = c.double()
            if cfg.dtype == "int8":
                ok = torch.equal(out, ref)
                err = (out - ref).abs().max().item()
            else:
                err = ((out - ref).norm() / ref.norm()).item()
                tol = {"float16": 2e-3, "bfloat16": 1e-2, "float32": 2e-3}[cfg.dtype]
                if cfg.acc == "float16" or cfg.out in ("float16", "bfloat16"):
                    tol = max(tol, 5e-3 if cfg.out == "float16" else 1e-2)
                ok = err < tol and not torch.isnan(out).any().item()
            print(f"{'PASS' if ok else 'FAIL'} {cfg.name()} {M}x{N}x{K} err={err:.2e}")
            failures += not ok
        attrs = lau.attributes()
        print(f"     regs={attrs['num_regs']} local={attrs['local_bytes']}")

    if rs_cubin is not None:
        BM = BN = D = 64
        nb = 8
        lau = Launcher(rs_cubin, "rs_kernel", ["ptr"] * 4, block=(128,), dynamic_smem=(BM + 2 * BN) * D * 2)
        q, k, v = (torch.randn(nb, 64, 64, device=dev).half() / 4 for _ in range(3))
        o = torch.full((nb, BM, D), -7.0, device=dev)
        lau((nb, 1, 1), torch.cuda.current_stream().cuda_stream, q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr())
        torch.cuda.synchronize()
        p = (q.double() @ k.double().transpose(1, 2)).half().double()
        ref = p @ v.double()
        err = ((o.double() - ref).norm() / ref.norm()).item()
        ok = err < 2e-3
        print(f"{'PASS' if ok else 'FAIL'} gemm_ss + cast + gemm_rs (attention block) err={err:.2e}")
        failures += not ok

    if not no_perf:
        perf(kernels[len(CORRECTNESS):], launcher, run_gemm, rand)
    print("check_gemm:", "FAIL" if failures else "PASS", f"({failures} failures)")
    return 1 if failures else 0


def bench(fn, reps=50):
    import torch

    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def perf(cubins, launcher, run_gemm, rand):
    import torch

    for size in (4096, 8192):
        M = N = K = size
        a, b = rand((M, K), "float16"), rand((K, N), "float16")
        flops = 2 * M * N * K
        ref_ms = bench(lambda: torch.matmul(a, b))
        print(f"torch.matmul fp16 {size}^3: {flops / ref_ms / 1e9:.1f} TFLOPS ({ref_ms:.3f} ms)")
        for cfg, cubin in zip(PERF, cubins):
            if cubin is None:
                continue
            lau = launcher(cubin, cfg)
            c = run_gemm(lau, cfg, a, b, M, N, K)
            torch.cuda.synchronize()
            if size == 4096:
                ref = (a.float() @ b.float())
                err = ((c.float() - ref).norm() / ref.norm()).item()
            else:
                err = float("nan")
            ms = bench(lambda: run_gemm(lau, cfg, a, b, M, N, K, c))
            attrs = lau.attributes()
            print(f"  ours {cfg.name()}: {flops / ms / 1e9:.1f} TFLOPS ({ms:.3f} ms) ratio {ref_ms / ms:.2f} "
                  f"err={err:.1e} regs={attrs['num_regs']} local={attrs['local_bytes']}")


if __name__ == "__main__":
    sys.exit(main())
