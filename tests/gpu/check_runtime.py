"""GPU check of the CUDA runtime with hand-written kernels (no TileLang compiler involved).

    python tests/gpu/check_runtime.py

Covers: a vector add with a symbolic size (grid from an IR expression, scalar and size
parameters, alignment errors, empty launches, non-default streams, a pickle round trip as
the disk cache does), a kernel with > 48 KB of dynamic shared memory (and one over the device
limit), a 2-D TMA load through a `__grid_constant__` descriptor with zero fill past the
edges, and an sm_90 cluster launch. Prints PASS/FAIL per check and `N passed, M failed`.
"""
import os
import pickle
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import torch  # noqa: E402

from tilelang.backend.cuda import toolchain  # noqa: E402
from tilelang.backend.cuda.runtime import CudaArtifact, LaunchPlan, ParamSpec  # noqa: E402
from tilelang.errors import ArgumentError, DeviceRuntimeError  # noqa: E402
from tilelang.ir import expr as E  # noqa: E402
from tilelang.ir.dtypes import int32  # noqa: E402

VADD = r"""
#include "tl.cuh"
extern "C" __global__ void vadd(const float* A, const float* B, float* C, float alpha, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) C[i] = A[i] + alpha * B[i];
}
"""

SMEM_REVERSE = r"""
#include "tl.cuh"
extern "C" __global__ void smem_reverse(const float* x, float* y, int per_block) {
  extern __shared__ float buf[];
  const float* xb = x + blockIdx.x * per_block;
  for (int i = threadIdx.x; i < per_block; i += blockDim.x) buf[i] = xb[i];
  __syncthreads();
  for (int i = threadIdx.x; i < per_block; i += blockDim.x) y[blockIdx.x * per_block + i] = buf[per_block - 1 - i];
}
"""

TMA_TILE = r"""
#include "tl.cuh"
extern "C" __global__ void tma_tile(const __grid_constant__ tl::TmaDescriptor desc, tl::half_t* out, int ld) {
  extern __shared__ __align__(128) uint8_t smem[];
  tl::half_t* tile = reinterpret_cast<tl::half_t*>(smem);
  uint64_t* bar = reinterpret_cast<uint64_t*>(smem + 64 * 64 * 2);
  int row0 = blockIdx.y * 64, col0 = blockIdx.x * 64;
  if (threadIdx.x == 0) {
    tl::mbar_init(bar, 1);
    tl::fence_mbarrier_init();
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    tl::mbar_arrive_expect_tx(bar, 64 * 64 * 2);
    tl::tma_load_2d(tile, &desc, bar, col0, row0);  // innermost coordinate first
  }
  tl::mbar_wait(bar, 0);
  for (int i = threadIdx.x; i < 64 * 64; i += blockDim.x) out[(row0 + i / 64) * ld + col0 + i % 64] = tile[i];
}
"""

CLUSTER = r"""
#include "tl.cuh"
extern "C" __global__ void cluster_rank(int* out) {
  out[blockIdx.x] = int(tl::cluster_ctarank());
  tl::cluster_sync();
}
"""

RESULTS = []


def check(name):
    def wrap(fn):
        try:
            fn()
            RESULTS.append(True)
            print(f"PASS {name}", flush=True)
        except Exception as e:  # report and go on to the next check
            RESULTS.append(False)
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(limit=4)
        return fn
    return wrap


def compile_artifact(source, plan):
    arch = toolchain.detect_arch()
    result = toolchain.build_cuda(source, arch, name=plan.kernel_name)
    return CudaArtifact(source, result.cubin, plan.kernel_name, plan)


N = E.Var(int32, "n")
ARCH = toolchain.detect_arch()
print(f"device: {torch.cuda.get_device_name()}  arch: {ARCH}  compiler: {toolchain.compiler_id()}")


def vadd_artifact():
    params = [ParamSpec.tensor(0, "A", 16), ParamSpec.tensor(1, "B", 16), ParamSpec.tensor(2, "C", 16),
              ParamSpec.scalar(3, "alpha", "float32"), ParamSpec.size("n")]
    return compile_artifact(VADD, LaunchPlan("vadd", params, grid=((N + 255) // 256,), block=(256,)))


@check("vector add, symbolic n (1000, 1<<20, 3)")
def _():
    art = vadd_artifact()
    for n in (1000, 1 << 20, 3):
        a, b = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
        c = torch.empty_like(a)
        art.launch([a, b, c, 0.5], {N: n})
        torch.testing.assert_close(c, a + 0.5 * b)
    attrs = art.attributes()
    assert attrs["num_regs"] > 0 and attrs["local_bytes"] == 0, attrs


@check("vector add: empty size, stream, pickle round trip, misaligned view")
def _():
    art = vadd_artifact()
    empty = torch.empty(0, device="cuda")
    art.launch([empty, empty, empty, 1.0], {N: 0})
    stream = torch.cuda.Stream()
    a, b = torch.randn(4096, device="cuda"), torch.randn(4096, device="cuda")
    with torch.cuda.stream(stream):
        c = torch.empty_like(a)
        art.launch([a, b, c, 2.0], {N: 4096})
        d = c * 1.0  # ordered after the kernel on the same stream
    stream.synchronize()
    torch.testing.assert_close(d, a + 2.0 * b)
    again = pickle.loads(pickle.dumps(art))
    c2 = torch.empty_like(a)
    again.launch([a, b, c2, 2.0], {E.Var(int32, "n"): 4096})
    torch.testing.assert_close(c2, a + 2.0 * b)
    try:
        art.launch([a[1:], b[1:], c[1:], 1.0], {N: 4095})
    except ArgumentError as e:
        assert "parameter A" in str(e), e
    else:
        raise AssertionError("a misaligned view was not rejected")


@check("dynamic shared memory > 48 KB (100 KB per block)")
def _():
    per_block = 100 * 1024 // 4
    plan = LaunchPlan("smem_reverse", [ParamSpec.tensor(0, "x"), ParamSpec.tensor(1, "y"),
                                       ParamSpec.scalar(2, "per_block", "int32")],
                      grid=(8,), block=(512,), smem_bytes=per_block * 4)
    art = compile_artifact(SMEM_REVERSE, plan)
    x = torch.randn(8, per_block, device="cuda")
    y = torch.empty_like(x)
    art.launch([x, y, per_block], {})
    torch.testing.assert_close(y, x.flip(1))


@check("shared memory over the device limit is a clear error")
def _():
    plan = LaunchPlan("smem_reverse", [ParamSpec.tensor(0, "x"), ParamSpec.tensor(1, "y"),
                                       ParamSpec.scalar(2, "per_block", "int32")],
                      grid=(1,), block=(256,), smem_bytes=300 * 1024)
    art = compile_artifact(SMEM_REVERSE, plan)
    x = torch.randn(10, device="cuda")
    try:
        art.launch([x, x, 10], {})
    except DeviceRuntimeError as e:
        assert "allows at most" in str(e), e
    else:
        raise AssertionError("300 KB of shared memory was accepted")


@check("TMA 2-D load (200x96 fp16, 64x64 boxes, zero fill past the edges)")
def _():
    if toolchain.compute_capability(ARCH) < 90:
        raise RuntimeError(f"TMA needs sm_90, this GPU is {ARCH}")
    plan = LaunchPlan("tma_tile", [ParamSpec.tma(0, "A", "float16", box=(64, 64)), ParamSpec.tensor(1, "out"),
                                   ParamSpec.scalar(2, "ld", "int32")],
                      grid=(2, 4), block=(128,), smem_bytes=64 * 64 * 2 + 8)
    art = compile_artifact(TMA_TILE, plan)
    a = torch.randn(200, 96, device="cuda", dtype=torch.float16)
    out = torch.full((256, 128), 7.0, device="cuda", dtype=torch.float16)
    art.launch([a, out, 128], {})
    expected = torch.zeros_like(out)
    expected[:200, :96] = a
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    art.launch([a, out, 128], {})  # second call: descriptor from the cache
    assert art.launch_plan.params[0].kind == "tma_desc"


@check("cluster launch (clusters of 2 blocks)")
def _():
    if toolchain.compute_capability(ARCH) < 90:
        raise RuntimeError(f"clusters need sm_90, this GPU is {ARCH}")
    plan = LaunchPlan("cluster_rank", [ParamSpec.tensor(0, "out")], grid=(8,), block=(32,), cluster=(2, 1, 1))
    art = compile_artifact(CLUSTER, plan)
    out = torch.full((8,), -1, device="cuda", dtype=torch.int32)
    art.launch([out], {})
    assert out.tolist() == [0, 1] * 4, out.tolist()


torch.cuda.synchronize()
passed = sum(RESULTS)
print(f"check_runtime: {passed} passed, {len(RESULTS) - passed} failed")
sys.exit(0 if passed == len(RESULTS) else 1)
