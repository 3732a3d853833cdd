"""fp16 GEMM (fp32 accumulate) through a TileLang program against torch.matmul (cuBLAS).

    python bench/bench_gemm.py [--sizes 4096,8192] [--config 128,256,32,3,256]

The program is the textbook TileLang GEMM: (BM, BK) / (BK, BN) tiles copied global -> shared
in a T.Pipelined loop, T.gemm into a fragment accumulator, grouped rasterization of the 1-D
grid (GROUP row blocks share B tiles in L2). Each size tries the configs named (default:
DEFAULT) and reports the fastest. Timing: CUDA events around one call, median of many, after
warm-up; inputs random; each kernel checked once (output poisoned with NaN) against a float64
reference. `main()` returns rows for
bench/run_all.py.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

CONFIGS = {  # name -> (BM, BN, BK, stages, threads[, warp policy])
    "128x256x32_s3": (128, 256, 32, 3, 256),
    "128x256x32_s4": (128, 256, 32, 4, 256),
    "128x256x64_s3": (128, 256, 64, 3, 256),
    "128x256x64_s4": (128, 256, 64, 4, 256),
    "128x256x64_s3_fullrow": (128, 256, 64, 3, 256, "FullRow"),   # wgmma: 2 warpgroups of 64x256
    "128x256x64_s4_fullrow": (128, 256, 64, 4, 256, "FullRow"),
    "256x128x64_s3": (256, 128, 64, 3, 256),
    "256x128x32_s3": (256, 128, 32, 3, 256),
    "128x128x32_s3": (128, 128, 32, 3, 128),
    "128x128x32_s4": (128, 128, 32, 4, 128),
    "128x128x32_s5": (128, 128, 32, 5, 128),
    "256x128x32_s4": (256, 128, 32, 4, 256),
    "128x128x32_s4_t256": (128, 128, 32, 4, 256),
    "128x128x64_s3_t256": (128, 128, 64, 3, 256),
    "128x128x64_s2": (128, 128, 64, 2, 128),
    "128x128x64_s3": (128, 128, 64, 3, 128),
    "128x128x64_s4": (128, 128, 64, 4, 128),
}
# sm_90a runs T.gemm on wgmma; one H100 (2026-11-25): 128x128x64_s3 (one warpgroup, two blocks
# per SM) 506 TFLOPS at 4096^3, 128x256x64_s4 (two warpgroups) 462 at 8192^3. One H200
# (2026-12-02), with C through shared memory (_cs): 128x128x64_s3_cs 590 / 514 (4096^3 / 8192^3),
# without 570 / 500; 128x256x64_s4_cs 509 / 481.
DEFAULT = ("128x128x64_s3_cs", "128x256x64_s4_cs", "128x128x64_s3")
# The sm_80-class path (ldmatrix + mma.sync + cp.async) on Hopper: target "cuda -arch=sm_90" has
# no wgmma, so T.gemm takes the mma.sync templates there, with the mainloop split at the stage
# boundary (software_pipeline). One H200, 2026-12-02 (TFLOPS at 4096^3 / 8192^3):
# 128x256x32_s3_cs 459 / 417, 128x128x32_s4_cs 455-463 / 394-403, 256x128x32_s3_cs 454 / 410,
# 128x128x32_s3_cs 455 / 405, 128x128x64_s3_cs 446 / 398, 128x128x32_s4 (C stored from the
# fragment) 434 / 390; rasterization groups of 4, 16 or 32 instead of 8 within 1%. Before the
# split (H100, 2026-11-25): 128x128x32_s4 416 / 387-391. The ceiling of mma.sync m16n8k16 (f16
# in, f32 acc) on that H100 was 615 TFLOPS from registers alone and 627 with the ldmatrix loads
# of a 64x64 warp tile (no global loads, no barriers); cuBLAS (wgmma) ran 680-770.
MMA_SYNC = ("128x256x32_s3_cs", "128x128x32_s4_cs", "256x128x32_s3_cs")


def matmul(M, N, K, bm, bn, bk, stages, threads, policy="Square", group=8, dtype="float16", accum="float32",
           epilogue="plain"):
    """epilogue "shared": C goes through a swizzled shared tile (whole-row vector stores to
    global); "shared_rowmajor": the same through a row-major tile."""
    import tilelang.language as T
    from tilelang.layout import make_swizzled_layout

    grid_m, grid_n = (M + bm - 1) // bm, (N + bn - 1) // bn
    width = group * grid_n

    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), dtype)):
        with T.Kernel(grid_m * grid_n, threads=threads) as pid:
            # grouped rasterization: consecutive blocks walk GROUP row blocks per column block
            first = pid // width * group
            size = T.min(grid_m - first, group)
            by = first + pid % width % size
            bx = pid % width // size
            A_s = T.alloc_shared((bm, bk), dtype)
            B_s = T.alloc_shared((bk, bn), dtype)
            C_f = T.alloc_fragment((bm, bn), accum)
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=stages):
                T.copy(A[by * bm, k * bk], A_s)
                T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, C_f, policy=getattr(T.GemmWarpPolicy, policy))
            if epilogue.startswith("shared"):
                C_s = T.alloc_shared((bm, bn), dtype)
                if epilogue == "shared":  # the fragment's stores free of bank conflicts
                    T.annotate_layout({C_s: make_swizzled_layout(C_s)})
                T.copy(C_f, C_s)
                T.copy(C_s, C[by * bm, bx * bn])
            else:
                T.copy(C_f, C[by * bm, bx * bn])

    return main


def program(size: int, config: str):
    """The bench program for a CONFIGS name with optional suffixes: "_cs" sends C through a
    swizzled shared tile ("_csr": a row-major one), "_g<N>" rasterizes in groups of N row
    blocks (default 8)."""
    parts = config.split("_")
    options = {"epilogue": "shared" if "cs" in parts else "shared_rowmajor" if "csr" in parts else "plain"}
    groups = [p for p in parts if p[:1] == "g" and p[1:].isdigit()]
    if groups:
        options["group"] = int(groups[0][1:])
    base = "_".join(p for p in parts if p not in ("cs", "csr") and p not in groups)
    return matmul(size, size, size, *CONFIGS[base], **options)


def time_ms(fn, warmup: int = 10, reps: int = 100) -> float:
    """Median of `reps` CUDA-event timings of fn() after `warmup` calls."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for s, e in zip(starts, ends):
        s.record()
        fn()
        e.record()
    torch.cuda.synchronize()
    times = sorted(s.elapsed_time(e) for s, e in zip(starts, ends))
    return times[len(times) // 2]


def bench_size(size: int, configs, target: str = "cuda") -> dict:
    """Compile each config, check it once, time it against torch.matmul; the fastest is the row."""
    import torch

    import tilelang

    M = N = K = size
    a = torch.randn(M, K, device="cuda", dtype=torch.float16)
    b = torch.randn(K, N, device="cuda", dtype=torch.float16)
    ref = a.double() @ b.double()
    flops = 2.0 * M * N * K
    theirs = time_ms(lambda: torch.matmul(a, b))
    best = None
    for config in configs:
        kernel = tilelang.compile(program(size, config), out_idx=[2], target=target)
        poison = torch.full((M, N), float("nan"), device="cuda", dtype=torch.float16)
        del poison  # the kernel's output takes this freed block: unwritten elements stay NaN
        c = kernel(a, b)
        err = ((c.double() - ref).norm() / ref.norm()).item()
        if not err < 1e-2:  # NaN (an element not written) fails too
            raise AssertionError(f"gemm {size}^3 {config}: relative error {err:.3g} vs a float64 reference")
        ours = time_ms(lambda: kernel(a, b))
        print(f"  gemm fp16 {size}^3 {config}: {flops / ours / 1e9:.1f} TFLOPS (torch {flops / theirs / 1e9:.1f}), "
              f"err {err:.1e}", flush=True)
        if best is None or ours < best[0]:
            best = (ours, config)
    ours, config = best
    theirs = min(theirs, time_ms(lambda: torch.matmul(a, b)))  # timed before and after: the faster counts
    path = "" if target == "cuda" else f", {target.split('=')[-1]}: mma.sync path"
    return {"benchmark": f"gemm fp16 {size}^3 ({config}{path}) TFLOPS", "ours": flops / ours / 1e9,
            "reference": flops / theirs / 1e9, "ratio": theirs / ours, "unit": "TFLOPS"}


def main(sizes=(4096, 8192), configs=DEFAULT, mma_sync=True) -> list[dict]:
    """Rows for the default path of this GPU (wgmma on sm_90a) and, on Hopper, the mma.sync path."""
    import torch

    runs = [("cuda", configs)]
    if mma_sync and torch.cuda.get_device_capability() == (9, 0):
        runs.append(("cuda -arch=sm_90", MMA_SYNC))
    rows = []
    for size, (target, names) in ((s, r) for s in sizes for r in runs):
        row = bench_size(size, names, target)
        rows.append(row)
        print(f"{row['benchmark']}: ours {row['ours']:.1f}  torch {row['reference']:.1f}  ratio {row['ratio']:.2f}",
              flush=True)
    return rows


def sass_summary(config: str, arch: str = "sm_90a", size: int = 8192) -> str:
    """Instruction counts of the generated kernel (nvcc + cuobjdump): are the tensor-core,
    ldmatrix and cp.async instructions the ones we meant, and how many others surround them."""
    import collections
    import re
    import subprocess
    import tempfile

    from tilelang.backend.cuda import lower_to_source
    from tilelang.backend.cuda.toolchain import INCLUDE_DIR
    from tilelang.target import Target

    src, _, _, _ = lower_to_source(program(size, config), Target("cuda", arch))
    with tempfile.TemporaryDirectory() as tmp:
        cu, cubin = os.path.join(tmp, "k.cu"), os.path.join(tmp, "k.cubin")
        with open(cu, "w") as f:
            f.write(src)
        gencode = f"-gencode=arch=compute_{arch[3:]},code={arch}"
        log = subprocess.run(["nvcc", "-cubin", gencode, "-std=c++17", f"-I{INCLUDE_DIR}", "-Xptxas", "-v", cu, "-o",
                              cubin], capture_output=True, text=True)
        sass = subprocess.run(["cuobjdump", "-sass", cubin], capture_output=True, text=True).stdout
    opcode = re.compile(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z0-9_.]+)")
    ops = collections.Counter(m.group(1).split(".")[0] for m in opcode.finditer(sass))
    regs = re.findall(r"Used \d+ registers.*", log.stderr)
    if os.environ.get("SASS_DUMP"):
        with open(os.path.join(os.environ["SASS_DUMP"], f"sass_{config}.txt"), "w") as f:
            f.write(sass)
    return f"{config} {arch}: {regs} total {sum(ops.values())} " + " ".join(f"{k}={v}" for k, v in ops.most_common(25))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="4096,8192")
    ap.add_argument("--configs", default=",".join(DEFAULT), help=f"comma list of {sorted(CONFIGS)}, or all")
    ap.add_argument("--sass", action="store_true", help="print instruction counts of each config instead")
    args = ap.parse_args()
    configs = tuple(CONFIGS) if args.configs == "all" else tuple(args.configs.split(","))
    if args.sass:
        for c in configs:
            print(sass_summary(c))
    else:
        main(tuple(int(s) for s in args.sizes.split(",")), configs)
