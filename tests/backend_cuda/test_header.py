"""tl.cuh compiles for sm_80 and sm_90a with every function instantiated.

Templates and inline PTX only fail when used, so each kernel below calls every primitive
the architecture offers; a typo in a constraint or an unknown PTX instruction fails here.
"""
import pytest

from tilelang.backend.cuda import toolchain

COMMON = r"""
#include "tl.cuh"
using namespace tl;

template <typename T> __device__ void use_shuffles(T* out, T v) {
  v = shfl_xor(v, 1); v = shfl_down(v, 2); v = shfl_up(v, 1); v = shfl_idx(v, 0);
  v = warp_allreduce_sum(v); v = warp_allreduce_max<4>(v); v = warp_allreduce_min<8, 4>(v);
  out[threadIdx.x] = v;
}

extern "C" __global__ void __launch_bounds__(256) common_kernel(
    float* f, half_t* h, bfloat16_t* b, int* i, unsigned* u, int64_t* l, double* d,
    float8_e4m3_t* e4, float8_e5m2_t* e5, half2_t* h2, bfloat162_t* b2, int n) {
  extern __shared__ __align__(128) uint8_t smem[];
  int t = threadIdx.x;
  // scalar types and conversions
  half_t x = half_t(f[t]); x += 1.f; x -= 1.f; x *= 2.f; x /= 2.f;
  bfloat16_t y = bfloat16_t(f[t]); y += 1.f; y -= 1.f; y *= 2.f; y /= 2.f;
  h[t] = x; b[t] = y;
  e4[t] = float8_e4m3_t(float(x)); e5[t] = float8_e5m2_t(float(y));
  f[t] = float(e4[t]) + float(e5[t]) + e4m3_to_float(float_to_e4m3(f[t])) + e5m2_to_float(float_to_e5m2(f[t]));
  h2[t] = hmax2(hfma2(hadd2(h2[t], h2[t]), hmul2(h2[t], h2[t]), float2_to_half2(1.f, 2.f)), h2[t]);
  b2[t] = hmax2(hfma2(hadd2(b2[t], b2[t]), hmul2(b2[t], b2[t]), float2_to_bfloat162(1.f, 2.f)), b2[t]);
  u[t] = float_to_tf32(f[t]) + bit_cast<uint32_t>(f[t]);
  f[t] += float(infinity<half_t>()) + float(infinity<bfloat16_t>()) + infinity<float>() + float(infinity<double>());
  f[t] = max(f[t], 0.f) + min(f[t], 1.f) + float(max(i[t], 3)) + float(min(d[t], 2.0));
  f[t] = fast_exp2(f[t]) + fast_log2(f[t]) + fast_exp(f[t]) + fast_log(f[t]) + fast_rsqrt(f[t]) + fast_rcp(f[t])
       + fast_div(f[t], 3.f) + fast_tanh(f[t]) + fast_sin(f[t]) + fast_cos(f[t]);
  // vector access storage
  *(vec_t<16>*)(smem + 16 * t) = *(const vec_t<16>*)(f + 4 * (t % 8));
  *(vec_t<8>*)(smem + 8 * t) = *(const vec_t<8>*)(f);
  *(vec_t<4>*)(smem + 4 * t) = *(const vec_t<4>*)(f);
  *(vec_t<2>*)(smem + 2 * t) = *(const vec_t<2>*)(h);
  *(vec_t<1>*)(smem + t) = *(const vec_t<1>*)(e4);
  // cp.async
  cp_async_4(smem + 4 * t, f + t); cp_async_8(smem + 8 * t, f + 2 * t); cp_async_16(smem + 16 * t, f + 4 * t);
  cp_async_16_ca(smem + 16 * t, f); cp_async_4_zfill(smem, f, t < n); cp_async_8_zfill(smem, f, t < n);
  cp_async_16_zfill(smem, f, t < n); cp_async_commit(); cp_async_wait<0>(); cp_async_wait<1>();
  uint64_t* bar = reinterpret_cast<uint64_t*>(smem + 4096);
  if (t == 0) mbar_init(bar, 256);
  syncthreads(); syncwarp(); named_barrier_sync(1, 256); named_barrier_arrive(2, 64);
  cp_async_mbar_arrive(bar); mbar_arrive(bar); mbar_wait(bar, 0); i[t] = mbar_try_wait(bar, 1);
  // ldmatrix + mma
  uint32_t frag[4];
  ldmatrix_x1(frag, smem); ldmatrix_x2(frag, smem); ldmatrix_x4(frag, smem);
  ldmatrix_x1_trans(frag, smem); ldmatrix_x2_trans(frag, smem); ldmatrix_x4_trans(frag, smem);
  float acc[4] = {0, 0, 0, 0}; int iacc[4] = {0, 0, 0, 0}; uint32_t hacc[2] = {0, 0};
  mma_m16n8k16_f16f32(acc, frag, frag + 2); mma_m16n8k16_bf16f32(acc, frag, frag + 2);
  mma_m16n8k16_f16f16(hacc, frag, frag + 2); mma_m16n8k32_s8s32(iacc, frag, frag + 2);
  mma_m16n8k32_u8s32(iacc, frag, frag + 2); mma_m16n8k8_tf32f32(acc, frag, frag + 2);
  f[t] += acc[0] + acc[3] + float(iacc[1]) + float(hacc[0]);
  // shuffles and reductions for 2-, 4- and 8-byte types
  use_shuffles(f, f[t]); use_shuffles(h, h[t]); use_shuffles(b, b[t]); use_shuffles(d, d[t]); use_shuffles(i, i[t]);
  // atomics
  atomic_add(f, 1.f); atomic_add(d, 1.0); atomic_add(i, 1); atomic_add(u, 1u); atomic_add(l, int64_t(1));
  atomic_add(h, half_t(1.f)); atomic_add(b, bfloat16_t(1.f)); atomic_add(h2, h2[t]); atomic_add(b2, b2[t]);
  atomic_max(i, 1); atomic_min(i, 1); atomic_max(u, 1u); atomic_min(u, 1u); atomic_max(l, int64_t(1));
  atomic_min(l, int64_t(1)); atomic_max(f, 1.f); atomic_min(f, 1.f); atomic_max(h, half_t(1.f));
  atomic_min(h, half_t(1.f)); atomic_max(b, bfloat16_t(1.f)); atomic_min(b, bfloat16_t(1.f));
  // debugging
  if (n < 0) {
    print("i", i[t]); print("u", u[t]); print("l", long(l[t])); print("ul", (unsigned long)l[t]);
    print("ll", (long long)l[t]); print("b", n == 1); print("d", d[t]); print("f", f[t]); print("h", h[t]);
    print("bf", b[t]); print("p", (const void*)f);
    device_assert(n < -5, "n");
  }
}
"""

SM90 = r"""
extern "C" __global__ void __launch_bounds__(128, 1) sm90_kernel(
    const __grid_constant__ TmaDescriptor desc, float* f, float2* f2, float4* f4, bfloat16_t* b, bfloat162_t* b2) {
  extern __shared__ __align__(1024) uint8_t smem[];
  uint64_t* bar = reinterpret_cast<uint64_t*>(smem + 32768);
  int t = threadIdx.x;
  uint32_t frag[4] = {0, 0, 0, 0};
  stmatrix_x1(smem, frag); stmatrix_x2(smem, frag); stmatrix_x4(smem, frag);
  stmatrix_x1_trans(smem, frag); stmatrix_x2_trans(smem, frag); stmatrix_x4_trans(smem, frag);
  atomic_add(f2, f2[t]); atomic_add(f4, f4[t]); atomic_add(b, b[t]); atomic_add(b2, b2[t]);
  tma_prefetch_descriptor(&desc);
  if (t == 0) { mbar_init(bar, 1); fence_mbarrier_init(); }
  syncthreads();
  if (elect_one_sync() && t < 32) {
    mbar_arrive_expect_tx(bar, 5 * 4096); mbar_expect_tx(bar, 0);
    tma_load_1d(smem, &desc, bar, 0); tma_load_2d(smem, &desc, bar, 0, 1); tma_load_3d(smem, &desc, bar, 0, 1, 2);
    tma_load_4d(smem, &desc, bar, 0, 1, 2, 3); tma_load_5d(smem, &desc, bar, 0, 1, 2, 3, 4);
    bulk_load(smem, f, 4096, bar);
  }
  mbar_wait(bar, 0);
  fence_proxy_async();
  if (t == 0) {
    tma_store_1d(&desc, smem, 0); tma_store_2d(&desc, smem, 0, 1); tma_store_3d(&desc, smem, 0, 1, 2);
    tma_store_4d(&desc, smem, 0, 1, 2, 3); tma_store_5d(&desc, smem, 0, 1, 2, 3, 4);
    bulk_store(f, smem, 4096); tma_store_commit(); tma_store_wait<0>();
  }
  f[t] = float(cluster_ctarank());
  cluster_arrive(); cluster_wait(); cluster_sync();
}
"""

SM90A_HEAD = r"""
template <typename AB, int N> __device__ void use_wgmma(float* out, const uint8_t* smem) {
  float d[N / 2];
  for (int k = 0; k < N / 2; ++k) d[k] = 0.f;
  uint64_t desc = make_smem_desc(smem, 1, 16, 1024);
  uint32_t a[4] = {0, 0, 0, 0};
  wgmma_fence();
  wgmma_m64nNk16_ss<AB, N>(d, desc, desc, 0);
  wgmma_m64nNk16_ss<AB, N, 1, 1>(d, desc, desc, 1);
  wgmma_m64nNk16_rs<AB, N>(d, a, desc, 1);
  wgmma_m64nNk16_rs<AB, N, 1>(d, a, desc, 1);
  wgmma_commit_group();
  wgmma_wait_group<0>();
  wgmma_fence_operands<N / 2>(d);
  float s = 0.f;
  for (int k = 0; k < N / 2; ++k) s += d[k];
  out[threadIdx.x] = s;
}
"""


WGMMA_N = (8, 16, 64, 128, 136, 192, 256)


def sm90a_kernel() -> str:
    """wgmma shapes for f16 and bf16, plus setmaxnreg.

    The 32 shapes come from one macro table; a sample spanning its rows (first, middle,
    register-list boundaries, last) catches a bad row while keeping the test fast.
    """
    calls = "\n".join(f"  use_wgmma<{t}, {n}>(f, smem);" for t in ("half_t", "bfloat16_t") for n in WGMMA_N)
    return SM90A_HEAD + (
        'extern "C" __global__ void __launch_bounds__(256, 1) sm90a_kernel(float* f) {\n'
        "  extern __shared__ __align__(1024) uint8_t smem[];\n"
        f"{calls}\n"
        "  if (threadIdx.x < 128) setmaxnreg_dec<40>(); else setmaxnreg_inc<232>();\n"
        "}\n")


def test_header_sm80(compiler):
    result = toolchain.build_cuda(COMMON, "sm_80", compiler=compiler, name="header_sm80")
    assert result.cubin[:4] == b"\x7fELF"


def test_header_sm90a(compiler):
    source = COMMON + SM90 + sm90a_kernel()
    result = toolchain.build_cuda(source, "sm_90a", compiler=compiler, name="header_sm90a")
    assert result.cubin[:4] == b"\x7fELF"


def test_sm90_primitives_absent_on_sm80(compiler):
    # sm_90 features are guarded, so using one on sm_80 is a clear "undefined" error, not bad PTX
    with pytest.raises(toolchain.CudaBuildError, match="identifier \"stmatrix_x1\" is undefined"):
        toolchain.build_cuda(COMMON + SM90, "sm_80", compiler=compiler, name="guarded")


def test_every_header_function_is_used_above():
    # a primitive added to tl.cuh without a use here would escape the compile checks
    import re
    from pathlib import Path

    header = (Path(toolchain.INCLUDE_DIR) / "tl.cuh").read_text()
    names = set(re.findall(r"TL_DEVICE(?:\s+static)?\s+[\w:<>]+[\s*&]+(\w+)\s*\(", header))
    assert len(names) > 100
    used_through_others = {"atomic_update16", "atomic_update32", "shuffle_words", "warp_allreduce", "smem_ptr",
                           "from_bits", "operator", "ss", "rs"}
    kernels = COMMON + SM90 + sm90a_kernel()
    unused = sorted(n for n in names - used_through_others if not re.search(rf"\b{n}\b", kernels))
    assert unused == []
