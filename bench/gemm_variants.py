"""Source-level experiments on the mma.sync GEMM: the compiler's CUDA for a bench_gemm config,
rewritten by a named transform, built and timed beside the original in one process.

    python bench/gemm_variants.py [--sizes 4096,8192] [--configs 128x128x32_s4,...] [--variants base,xstage]

Transforms:
- base: the source as generated.
- xstage: the CUTLASS mainloop order. Each stage's gemm runs its k-steps but the last, then the
  pipeline waits for the next stage, syncs, issues the next copy into the slot it just finished
  reading, loads the next stage's first fragments and runs the last k-step, so no ldmatrix
  latency follows the barrier and every slot holds a stage in flight (S slots, S in flight).
"""
from __future__ import annotations

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

PIPE_TEMPLATE = r"""
namespace tl {
// gemm_ss split at the stage boundary: body() runs k-steps 0..KI-2 (loading 1..KI-1), tail()
// loads step 0 of the next stage and runs step KI-1. The fragments live across calls.
template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, typename LayoutA, typename LayoutB,
          typename A_t, typename B_t, typename C_t>
struct GemmPipe {
  using S = gemm_detail::Shape<M, N, K, WarpM, WarpN, A_t, C_t>;
  static constexpr int MI = S::MI, NI = S::NI, KK = S::KK, KI = S::KI;
  gemm_detail::OperandA<TransA, LayoutA, KK, MI, A_t> op_a;
  gemm_detail::OperandB<TransB, LayoutB, KK, NI, B_t> op_b;
  uint32_t a[2][MI][4], b[2][NI][2];
  TL_DEVICE GemmPipe(int thread)
      : op_a((((thread >> 5) % (WarpM * WarpN)) % WarpM) * S::WM, thread & 31),
        op_b((((thread >> 5) % (WarpM * WarpN)) / WarpM) * S::WN, thread & 31) {}
  TL_DEVICE void load(const A_t* A, const B_t* B, int ki, uint32_t (&af)[MI][4], uint32_t (&bf)[NI][2]) {
    const uint32_t a_base = smem_ptr(A), b_base = smem_ptr(B);
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      op_a.load(af[mi], A, a_base, mi, ki);
#pragma unroll
      for (int j = 0; j < 4; ++j) gemm_detail::round_operand<A_t>(af[mi][j]);
    }
    op_b.load(bf, B, b_base, ki);
  }
  TL_DEVICE void prefetch(const A_t* A, const B_t* B) { load(A, B, 0, a[0], b[0]); }
  TL_DEVICE void body(const A_t* A, const B_t* B, C_t* C) {
#pragma unroll
    for (int ki = 0; ki + 1 < KI; ++ki) {
      load(A, B, ki + 1, a[(ki + 1) & 1], b[(ki + 1) & 1]);
      gemm_detail::mma_block<MI, NI, A_t>(C, a[ki & 1], b[ki & 1]);
    }
  }
  TL_DEVICE void tail(const A_t* A, const B_t* B, C_t* C) {
    constexpr int last = (KI - 1) & 1;
    load(A, B, 0, a[last ^ 1], b[last ^ 1]);
    gemm_detail::mma_block<MI, NI, A_t>(C, a[last], b[last]);
    if constexpr (last == 0) {  // KI odd: the next stage's step 0 must sit in buffer 0
#pragma unroll
      for (int mi = 0; mi < MI; ++mi)
#pragma unroll
        for (int j = 0; j < 4; ++j) a[0][mi][j] = a[1][mi][j];
#pragma unroll
      for (int ni = 0; ni < NI; ++ni) b[0][ni][0] = b[1][ni][0], b[0][ni][1] = b[1][ni][1];
    }
  }
};
}  // namespace tl
"""


def _block(lines, start):
    """Index one past the line that closes the brace block opened on lines[start]."""
    depth = 0
    for i in range(start, len(lines)):
        depth += lines[i].count("{") - lines[i].count("}")
        if depth == 0:
            return i + 1
    raise ValueError("unbalanced braces")


def xstage(src: str) -> str:
    lines = src.split("\n")
    loop = next(i for i, l in enumerate(lines) if re.match(r"\s*for \(int k = 0; k < \d+; \+\+k\) \{", l))
    end = _block(lines, loop)
    body = lines[loop + 1:end - 1]
    nk = int(re.search(r"k < (\d+)", lines[loop]).group(1))
    wait = next(i for i, l in enumerate(body) if "cp_async_wait<" in l)
    stages = int(re.search(r"cp_async_wait<(\d+)>", body[wait]).group(1)) + 2
    guard = next(i for i, l in enumerate(body) if re.match(rf"\s*if \(k \+ {stages - 1} < {nk}\) \{{", l))
    guard_end = _block(body, guard)
    copies = body[guard + 1:guard_end - 1]
    gemm = next(l for l in body if "tl::gemm_ss<" in l)
    m = re.match(r"(\s*)tl::gemm_ss<(\d+), (\d+), (\d+), (\d+), (\d+), (\w+), (\w+), (\w+), (.*)>\(\(&(\w+)\[k % (\d+) \* (\d+)\]\), "
                 r"\(&(\w+)\[k % \d+ \* (\d+)\]\), \(&(\w+)\[0\]\), (\w+)\);", gemm)
    ind, M, N, K, WM, WN, TA, TB, _clear, layouts, a, s, sa, b, sb, c, tx = m.groups()
    ctype = re.search(rf"(\w+)\* {a} = reinterpret_cast", src).group(1)
    btype = re.search(rf"(\w+)\* {b} = reinterpret_cast", src).group(1)
    acc = re.search(rf"(\w+) {c}\[\d+\];", src).group(1)
    pipe = f"tl::GemmPipe<{M}, {N}, {K}, {WM}, {WN}, {TA}, {TB}, {layouts}, {ctype}, {btype}, {acc}> tl_pipe({tx});"
    sub = lambda text, kexpr: re.sub(r"\bk\b", kexpr, text)  # noqa: E731
    new = [f"{ind}// stage {stages - 1} (xstage: S slots, S stages in flight)"]
    new += [sub(l, "0") for l in copies]
    new += [f"{ind}tl::cp_async_commit();", f"{ind}tl::cp_async_wait<{stages - 1}>();", f"{ind}__syncthreads();",
            f"{ind}{pipe}", f"{ind}tl_pipe.prefetch(&{a}[0], &{b}[0]);", lines[loop]]
    new += [f"{ind}  tl_pipe.body(&{a}[k % {s} * {sa}], &{b}[k % {s} * {sb}], &{c}[0]);",
            f"{ind}  tl::cp_async_wait<{stages - 2}>();", f"{ind}  __syncthreads();",
            f"{ind}  if (k + {stages} < {nk}) {{"]
    new += [sub(l, "(k + 1)") for l in copies]
    new += [f"{ind}  }}", f"{ind}  tl::cp_async_commit();",
            f"{ind}  tl_pipe.tail(&{a}[(k + 1) % {s} * {sa}], &{b}[(k + 1) % {s} * {sb}], &{c}[0]);", f"{ind}}}"]
    out = lines[:loop] + new + lines[end:]
    text = "\n".join(out)
    if _clear == "true":
        raise ValueError("xstage: clear_accum gemm not handled")
    return text.replace('#include "tl_gemm.cuh"', '#include "tl_gemm.cuh"\n' + PIPE_TEMPLATE, 1)


def launch_bounds_2(src: str) -> str:
    return re.sub(r"__launch_bounds__\((\d+)\)", r"__launch_bounds__(\1, 2)", src, count=1)


VARIANTS = {"base": lambda s: s, "xstage": xstage, "lb2": launch_bounds_2,
            "xstage_lb2": lambda s: launch_bounds_2(xstage(s))}


def build_variant(kernel, name: str, arch: str = "sm_90"):
    from tilelang.backend.cuda.runtime import CudaArtifact
    from tilelang.backend.cuda.toolchain import build_cuda

    art = kernel.artifact("cuda")
    src = VARIANTS[name](art.source)
    cubin = build_cuda(src, arch, name=art.kernel_name).cubin
    return CudaArtifact(src, cubin, art.kernel_name, art.launch_plan), src


def main(sizes, configs, variants, program_variants=("plain",)):
    import torch

    import tilelang
    from bench_gemm import CONFIGS, matmul, time_ms

    rows = []
    for size in sizes:
        a = torch.randn(size, size, device="cuda", dtype=torch.float16)
        b = torch.randn(size, size, device="cuda", dtype=torch.float16)
        ref = (a.double() @ b.double()).float()
        flops = 2.0 * size ** 3
        theirs = time_ms(lambda: torch.matmul(a, b))
        for config in configs:
            for epi in program_variants:
                kernel = tilelang.compile(matmul(size, size, size, *CONFIGS[config], epilogue=epi), out_idx=[2],
                                          target="cuda -arch=sm_90")
                for v in variants:
                    try:
                        art, _ = build_variant(kernel, v)
                    except Exception as e:  # noqa: BLE001
                        print(f"  {size} {config} {epi} {v}: BUILD FAILED {type(e).__name__}: {str(e)[:300]}")
                        continue
                    c = torch.full((size, size), float("nan"), device="cuda", dtype=torch.float16)
                    art.launch([a, b, c], {})
                    torch.cuda.synchronize()
                    err = ((c.float() - ref).norm() / ref.norm()).item()
                    ms = time_ms(lambda: art.launch([a, b, c], {}))
                    attrs = art.attributes()
                    tf = flops / ms / 1e9
                    print(f"  {size}^3 {config:>16} {epi:>6} {v:>10}: {tf:6.1f} TFLOPS  ratio {theirs / ms:.3f}  "
                          f"err {err:.1e}  regs {attrs.get('num_regs', '?')}", flush=True)
                    rows.append((size, config, epi, v, tf, theirs / ms, err))
        theirs = min(theirs, time_ms(lambda: torch.matmul(a, b)))
        print(f"  {size}^3 torch.matmul: {flops / theirs / 1e9:.1f} TFLOPS", flush=True)
    print("\nsize config epilogue variant TFLOPS ratio err")
    for r in rows:
        print(f"{r[0]} {r[1]} {r[2]} {r[3]} {r[4]:.1f} {r[5]:.3f} {r[6]:.1e}")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="4096,8192")
    ap.add_argument("--configs", default="128x128x32_s4,128x128x64_s3")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--epilogues", default="plain,shared")
    ap.add_argument("--source", help="print the source of CONFIG:VARIANT for 4096^3 and exit (no GPU)")
    args = ap.parse_args()
    if args.source:
        import tilelang
        from bench_gemm import CONFIGS, matmul
        from tilelang.backend.cuda import lower_to_source
        from tilelang.jit.target import Target

        config, variant = args.source.split(":")
        src = lower_to_source(matmul(4096, 4096, 4096, *CONFIGS[config]), Target("cuda", "sm_90"))[0]
        print(VARIANTS[variant](src))
    else:
        main([int(s) for s in args.sizes.split(",")], args.configs.split(","), args.variants.split(","),
             args.epilogues.split(","))
