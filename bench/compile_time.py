"""Compile time of a GEMM through tilelang.compile: cold (cache disabled) and warm (disk cache hit).

    python bench/compile_time.py [--arch sm_90a]

The program is the conformance case `gemm_f16_128x128x32_3stage` (../shared/conformance, or
$TILELANG_CONFORMANCE_DIR); where that folder is absent (the GPU machine), the same matmul is
built from the copy below. No GPU is needed: compiling for a named arch stops at the cubin.
`main()` returns rows for bench/run_all.py; it returns none while tilelang.compile cannot
target CUDA yet.
"""

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CASE = "gemm_f16_128x128x32_3stage"


def gemm_program():
    """(name, PrimFunc, out_idx) of the conformance GEMM case."""
    folder = Path(os.environ.get("TILELANG_CONFORMANCE_DIR", ROOT.parent / "shared" / "conformance"))
    if (folder / "cases" / "gemm.py").exists():
        sys.path.insert(0, str(folder))
        spec = importlib.util.spec_from_file_location("conformance_gemm", folder / "cases" / "gemm.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        case = next(c for c in module.CASES if c.name == CASE)
        return case.name, case.build(), list(case.out_idx)
    return CASE + " (local copy)", _matmul(256, 256, 256, 128, 128, 32, stages=3), [2]


def _matmul(M, N, K, bm, bn, bk, stages):
    import tilelang.language as T

    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            A_s = T.alloc_shared((bm, bk), "float16")
            B_s = T.alloc_shared((bk, bn), "float16")
            C_f = T.alloc_fragment((bm, bn), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=stages):
                T.copy(A[by * bm, k * bk], A_s)
                T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[by * bm, bx * bn])

    return main


def _time_compile(func, out_idx, target, repeats):
    import tilelang

    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        tilelang.compile(func, out_idx=out_idx, target=target)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def main(arch: str = "sm_90a") -> list[dict]:
    name, func, out_idx = gemm_program()
    target = f"cuda -arch={arch}"
    saved = {k: os.environ.get(k) for k in ("TILELANG_CACHE_DIR", "TILELANG_DISABLE_CACHE")}
    try:
        with tempfile.TemporaryDirectory(prefix="tilelang-bench-cache-") as folder:
            os.environ["TILELANG_CACHE_DIR"] = folder
            os.environ["TILELANG_DISABLE_CACHE"] = "1"
            try:
                cold = _time_compile(func, out_idx, target, repeats=3)
            except Exception as e:  # no CUDA compiler yet, or it cannot lower this program yet
                lines = str(e).splitlines()
                print(f"compile_time: skipped, tilelang.compile(target={target!r}) failed: {type(e).__name__}:\n" +
                      "\n".join(lines[:30]) + (f"\n... ({len(lines) - 30} more lines)" if len(lines) > 30 else ""))
                return []
            os.environ["TILELANG_DISABLE_CACHE"] = "0"
            _time_compile(func, out_idx, target, repeats=1)  # fill the cache
            warm = _time_compile(func, out_idx, target, repeats=5)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return [
        {"benchmark": f"compile time, cold (no cache): {name} {arch}", "ours": cold, "reference": None,
         "ratio": None, "unit": "ms"},
        {"benchmark": f"compile time, warm (disk cache hit): {name} {arch}", "ours": warm, "reference": cold,
         "ratio": warm / cold, "unit": "ms"},
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="sm_90a")
    for row in main(parser.parse_args().arch):
        print(f"{row['benchmark']}: {row['ours']:.1f} {row['unit']}")
