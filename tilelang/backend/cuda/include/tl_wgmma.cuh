// tl_wgmma.cuh: block-level GEMM on warpgroup MMA (wgmma.mma_async m64nNk16, sm_90a):
// C (+)= op(A) @ op(B) on whole tiles, f16/bf16 operands, f32 accumulator.
//
// Warpgroups g = gm + gn * WgM (128 consecutive threads each) split the (M, N) tile WgM x WgN;
// each computes (M / WgM) x (N / WgN) as 64-row atoms times instructions NWidth columns wide.
// The Python side (tilelang/layout/mma.py: wgmma_accumulator, wgmma_operand_a, wgmma_operand)
// holds the layouts; this header only walks them:
// - accumulator registers of atom mi and instruction ni start at C + mi * (N / WgN / 2) +
//   ni * (NWidth / 2), in the order the instruction defines (the m16n8 C layout per chunk);
// - an A operand in registers: atom mi, k16 step j is the 4 words at half index
//   mi * (K / 2) + 8 j (the accumulator layout of an (M, K) tile);
// - a shared operand is a WgmmaOperand: descriptor swizzle mode, LBO, SBO, the byte stride
//   between MN sub-tiles (64 rows of A, NWidth columns of B) and the byte offset of each k16
//   step from the operand's first element, computed from the Layout in Python and checked
//   there against the canonical layouts of the PTX ISA.
// One T.gemm issues all its wgmmas as one group and waits for it before returning.
#pragma once

#include "tl.cuh"
#include "tl_tables.cuh"

namespace tl {

template <int SwizzleMode, int LBO, int SBO, int MnStride, class KOffsets>
struct WgmmaOperand {
  // The descriptor of MN sub-tile mn, k16 step k: the start-address field is the low 14 bits
  // (byte address >> 4) and shared addresses stay below 256 KiB, so offsets add to it.
  TL_DEVICE static uint64_t base_desc(const void* base) { return make_smem_desc(base, SwizzleMode, LBO, SBO); }
  TL_DEVICE static uint64_t at(uint64_t base, int mn, int k) {
    return base + uint64_t((mn * MnStride + KOffsets::at(k)) >> 4);
  }
};

#if defined(TL_SM90A)
template <typename AB, int NWidth, bool MnMajorA, bool MnMajorB>
TL_DEVICE void wgmma_ss_step(float* d, uint64_t a, uint64_t b, int scale_d) {
  wgmma_m64nNk16_ss<AB, NWidth, MnMajorA ? 1 : 0, MnMajorB ? 1 : 0>(d, a, b, scale_d);
}

// A and B in shared memory. MnMajorA: A stored (K, M); MnMajorB: B stored (K, N) (T.gemm's
// transpose_b = false). A, B point at the operand tiles' first elements; thread = the index
// in the executing group (a multiple of 128 threads).
template <int M, int N, int K, int WgM, int WgN, int NWidth, bool MnMajorA, bool MnMajorB, bool ClearAccum,
          class OpA, class OpB, typename AB>
TL_DEVICE void wgmma_gemm_ss(const AB* A, const AB* B, float* C, int thread) {
  constexpr int MI = M / WgM / 64, NI = N / WgN / NWidth, KI = K / 16;
  static_assert(M % (64 * WgM) == 0 && N % (NWidth * WgN) == 0 && K % 16 == 0, "wgmma tile shape");
  const int g = thread / 128, gm = g % WgM, gn = g / WgM;
  const uint64_t desc_a = OpA::base_desc(A), desc_b = OpB::base_desc(B);
  fence_proxy_async();  // cp.async / st.shared data (made visible by the caller's barrier) -> async proxy
  wgmma_fence();
#pragma unroll
  for (int j = 0; j < KI; ++j) {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int ni = 0; ni < NI; ++ni) {
        wgmma_ss_step<AB, NWidth, MnMajorA, MnMajorB>(C + mi * (N / WgN / 2) + ni * (NWidth / 2),
                                                      OpA::at(desc_a, gm * MI + mi, j),
                                                      OpB::at(desc_b, gn * NI + ni, j),
                                                      (ClearAccum && j == 0) ? 0 : 1);
      }
    }
  }
  wgmma_commit_group();
  wgmma_wait_group<0>();
  wgmma_fence_operands<M / WgM / 64 * (N / WgN / 2)>(C);
}

// A in registers (16-bit, the layout above), B in shared memory.
template <int M, int N, int K, int WgM, int WgN, int NWidth, bool MnMajorB, bool ClearAccum, class OpB,
          typename AB>
TL_DEVICE void wgmma_gemm_rs(const AB* A, const AB* B, float* C, int thread) {
  constexpr int MI = M / WgM / 64, NI = N / WgN / NWidth, KI = K / 16;
  static_assert(M % (64 * WgM) == 0 && N % (NWidth * WgN) == 0 && K % 16 == 0, "wgmma tile shape");
  const int gn = thread / 128 / WgM;
  const uint64_t desc_b = OpB::base_desc(B);
  fence_proxy_async();
  wgmma_fence();  // also orders the writes of A's registers before the wgmmas read them
#pragma unroll
  for (int j = 0; j < KI; ++j) {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int ni = 0; ni < NI; ++ni) {
        wgmma_m64nNk16_rs<AB, NWidth, MnMajorB ? 1 : 0>(C + mi * (N / WgN / 2) + ni * (NWidth / 2),
                                                       A + mi * (K / 2) + 8 * j, OpB::at(desc_b, gn * NI + ni, j),
                                                       (ClearAccum && j == 0) ? 0 : 1);
      }
    }
  }
  wgmma_commit_group();
  wgmma_wait_group<0>();
  wgmma_fence_operands<M / WgM / 64 * (N / WgN / 2)>(C);
}
#endif  // TL_SM90A

}  // namespace tl
