"""Host overhead of launching a tiny kernel through CudaArtifact, against torch.add.

    python bench/launch_overhead.py

Times the Python side of back-to-back launches of a 1K-element float add (the GPU work is
~2 us, so the loop measures the host). Rows: CudaArtifact.launch (symbolic grid, the JIT's
path minus argument checks), the packer alone, and a TileLang kernel through tilelang.compile
once the CUDA compiler exists. `main()` returns rows for bench/run_all.py.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

ADD = r"""
#include "tl.cuh"
extern "C" __global__ void add_f32(const float* A, const float* B, float* C, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) C[i] = A[i] + B[i];
}
"""
SIZE = 1024


def host_us_per_call(fn, calls: int = 2000, repeats: int = 7) -> float:
    """Median over repeats of the loop's wall time per call; the GPU is drained between repeats."""
    import torch

    for _ in range(100):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
        torch.cuda.synchronize()
    return statistics.median(samples)


def artifact():
    from tilelang.backend.cuda import toolchain
    from tilelang.backend.cuda.runtime import CudaArtifact, LaunchPlan, ParamSpec
    from tilelang.ir import expr as E
    from tilelang.ir.dtypes import int32

    n = E.Var(int32, "n")
    plan = LaunchPlan("add_f32", [ParamSpec.tensor(0, "A", 16), ParamSpec.tensor(1, "B", 16),
                                  ParamSpec.tensor(2, "C", 16), ParamSpec.size("n")],
                      grid=((n + 255) // 256,), block=(256,))
    cubin = toolchain.build_cuda(ADD, toolchain.detect_arch(), name="add_f32").cubin
    return CudaArtifact(ADD, cubin, "add_f32", plan), n


def tilelang_add():
    """C = A + B as a TileLang kernel, or None while tilelang.compile cannot target CUDA."""
    try:
        import tilelang
        import tilelang.language as T

        @T.prim_func
        def add(A: T.Tensor((SIZE,), "float32"), B: T.Tensor((SIZE,), "float32"), C: T.Tensor((SIZE,), "float32")):
            with T.Kernel(T.ceildiv(SIZE, 256), threads=256) as bx:
                for i in T.Parallel(256):
                    C[bx * 256 + i] = A[bx * 256 + i] + B[bx * 256 + i]

        return tilelang.compile(add, target="cuda")
    except Exception as e:  # the CUDA compiler is not there yet
        print(f"(TileLang kernel skipped: {type(e).__name__}: {str(e).splitlines()[0][:120]})")
        return None


def main() -> list[dict]:
    import torch

    if not torch.cuda.is_available():
        print("launch_overhead: no CUDA GPU, skipped")
        return []
    a, b, c = (torch.randn(SIZE, device="cuda") for _ in range(3))
    art, n = artifact()
    args, sizes = [a, b, c], {n: SIZE}
    art.launch(args, sizes)
    torch.testing.assert_close(c, a + b)

    ours = host_us_per_call(lambda: art.launch(args, sizes))
    ref = host_us_per_call(lambda: torch.add(a, b, out=c))
    pack = host_us_per_call(lambda: art.pack(args, sizes))
    grid, values, device = art.pack(args, sizes)
    launcher, stream = art._launchers[device], torch.cuda.current_stream().cuda_stream
    driver_only = host_us_per_call(lambda: launcher(grid, stream, *values))
    rows = [
        {"benchmark": "launch overhead: CudaArtifact.launch, 1K add", "ours": ours, "reference": ref,
         "ratio": ours / ref, "unit": "us/call (host)"},
        {"benchmark": "launch overhead: argument packing only", "ours": pack, "reference": None, "ratio": None,
         "unit": "us/call (host)"},
        {"benchmark": "launch overhead: driver.Launcher call only (ctypes cuLaunchKernelEx)", "ours": driver_only,
         "reference": None, "ratio": None, "unit": "us/call (host)"},
    ]
    kernel = tilelang_add()
    if kernel is not None:
        kernel(a, b, c)
        torch.testing.assert_close(c, a + b)
        jit = host_us_per_call(lambda: kernel(a, b, c))
        rows.append({"benchmark": "launch overhead: tilelang.compile kernel call, 1K add", "ours": jit,
                     "reference": ref, "ratio": jit / ref, "unit": "us/call (host)"})
    return rows


if __name__ == "__main__":
    for row in main():
        ratio = "" if row["ratio"] is None else f"  ratio {row['ratio']:.2f}"
        ref = "" if row["reference"] is None else f"  torch.add {row['reference']:.2f}"
        print(f"{row['benchmark']}: ours {row['ours']:.2f}{ref} {row['unit']}{ratio}")
