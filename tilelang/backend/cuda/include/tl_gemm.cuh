// tl_gemm.cuh: block-level tensor-core GEMM for the sm_80 path (ldmatrix + mma.sync), which
// also runs on sm_90. C (+)= op(A) @ op(B) on whole tiles, warps arranged WarpM x WarpN over
// the (M, N) tile, each warp computing (M / WarpM) x (N / WarpN) with m16n8 atoms.
//
// Layouts (the Python side, tilelang/layout/mma.py, describes the same maps as Layout and
// Fragment values; tests/layout/test_mma.py checks that the two agree):
// - Shared operands are stored as (M, K) / (K, M) for A and (K, N) / (N, K) for B, row-major
//   or XOR-swizzled in 16-byte chunks (SmemLayout below, = tilelang.layout.swizzled).
// - The accumulator of warp w = wm + wn * WarpM holds, per thread (lane = 4 g + t), registers
//   C[(mi * NI + ni) * 4 + c] = element (wm * WM + mi * 16 + g + 8 * (c / 2),
//                                         wn * WN + ni * 8 + 2 * t + c % 2).
// - A fragment operand (gemm_rs, 16-bit types) holds A[(mi * KI + ki) * 8 + j] = element
//   (wm * WM + mi * 16 + g + 8 * (j / 2 % 2), ki * 16 + 2 * t + j % 2 + 8 * (j / 4)), which is
//   register for register the accumulator layout of an (M, K) tile with WarpN = 1, so a cast
//   of a float accumulator to half is a valid A operand (flash attention's P @ V).
#pragma once

#include "tl.cuh"

namespace tl {

// A shared tile of Rows x Cols elements, row-major (SwizzleBytes = 0) or XOR-swizzled as
// tilelang.layout.swizzled (the TMA / wgmma pattern, so one layout serves every path): the
// tile is split into column blocks of SwizzleBytes-wide rows stored one block after another,
// and in each the 16-byte chunk index is XORed with (row >> log2(128 / SwizzleBytes)) &
// (SwizzleBytes / 16 - 1). The 8 row addresses of one ldmatrix then hit 8 different 16-byte
// bank groups.
template <int Rows, int Cols, int SwizzleBytes>
struct SmemLayout {
  static constexpr int kRows = Rows, kCols = Cols, kSwizzleBytes = SwizzleBytes;

  template <typename T>
  TL_DEVICE static int offset(int row, int col) {
    if constexpr (SwizzleBytes == 0) {
      return row * Cols + col;
    } else {
      constexpr int kAtom = SwizzleBytes / int(sizeof(T));  // elements in one swizzled row
      constexpr int kChunk = 16 / int(sizeof(T));
      constexpr int kRowShift = SwizzleBytes == 128 ? 0 : SwizzleBytes == 64 ? 1 : 2;
      constexpr int kMask = SwizzleBytes / 16 - 1;
      static_assert(SwizzleBytes == 32 || SwizzleBytes == 64 || SwizzleBytes == 128, "swizzle of 32, 64 or 128 bytes");
      static_assert(Cols % kAtom == 0, "swizzled rows must be a multiple of the swizzle width");
      int off = row * kAtom + ((col % kAtom) ^ (((row >> kRowShift) & kMask) * kChunk));
      if constexpr (Cols > kAtom) off += (col / kAtom) * (Rows * kAtom);
      return off;
    }
  }
  // Rows start 16-byte aligned: ldmatrix can read them.
  template <typename T>
  __host__ __device__ static constexpr bool rows_aligned() { return SwizzleBytes != 0 || (Cols * int(sizeof(T))) % 16 == 0; }
};

namespace gemm_detail {

// One mma.sync shape per (operand, accumulator) type pair. kK: k extent of the atom.
template <typename AB, typename C> struct Atom;
template <> struct Atom<half_t, float> {
  static constexpr int kK = 16;
  TL_DEVICE static void mma(float* c, const uint32_t* a, const uint32_t* b) { mma_m16n8k16_f16f32(c, a, b); }
};
template <> struct Atom<bfloat16_t, float> {
  static constexpr int kK = 16;
  TL_DEVICE static void mma(float* c, const uint32_t* a, const uint32_t* b) { mma_m16n8k16_bf16f32(c, a, b); }
};
template <> struct Atom<half_t, half_t> {
  static constexpr int kK = 16;
  TL_DEVICE static void mma(half_t* c, const uint32_t* a, const uint32_t* b) { mma_m16n8k16_f16f16(c, a, b); }
};
template <> struct Atom<int8_t, int> {
  static constexpr int kK = 32;
  TL_DEVICE static void mma(int* c, const uint32_t* a, const uint32_t* b) { mma_m16n8k32_s8s32(c, a, b); }
};
template <> struct Atom<uint8_t, int> {
  static constexpr int kK = 32;
  TL_DEVICE static void mma(int* c, const uint32_t* a, const uint32_t* b) { mma_m16n8k32_u8s32(c, a, b); }
};
template <> struct Atom<float, float> {  // tf32 operands, rounded from float on load
  static constexpr int kK = 8;
  TL_DEVICE static void mma(float* c, const uint32_t* a, const uint32_t* b) { mma_m16n8k8_tf32f32(c, a, b); }
};

template <typename T> TL_DEVICE void round_operand(uint32_t& w) {}
template <> TL_DEVICE void round_operand<float>(uint32_t& w) { w = float_to_tf32(__uint_as_float(w)); }

// Byte p of a 32-bit operand register holding 4 / sizeof(T) elements.
template <typename T> TL_DEVICE void set_part(uint32_t& w, int p, T v) {
  if constexpr (sizeof(T) == 4) {
    w = bit_cast<uint32_t>(v);
  } else if constexpr (sizeof(T) == 2) {
    uint32_t bits = bit_cast<uint16_t>(v);
    w = p == 0 ? (w & 0xFFFF0000u) | bits : (w & 0x0000FFFFu) | (bits << 16);
  } else {
    uint32_t bits = bit_cast<uint8_t>(v);
    w = (w & ~(0xFFu << (8 * p))) | (bits << (8 * p));
  }
}

// A operand registers of the atom rows [row0, row0 + 16) at k step ki. Register j of the
// m16 x kK atom holds P = 4 / sizeof(T) elements of row g + 8 (j % 2) at
// k = P t + (kK / 2)(j / 2) + p: ldmatrix when the stored rows run along k (or .trans for
// 16-bit types), element loads otherwise. LA is the SmemLayout of the stored tile.
template <bool Trans, typename LA, int KK, typename T>
TL_DEVICE void load_a(uint32_t* a, const T* A, int row0, int ki, int lane) {
  constexpr int Bytes = sizeof(T), E = 16 / Bytes, P = 4 / Bytes;
  if constexpr (!Trans && LA::template rows_aligned<T>()) {
    ldmatrix_x4(a, A + LA::template offset<T>(row0 + (lane & 15), ki * KK + (lane >> 4) * E));
  } else if constexpr (Trans && Bytes == 2 && LA::template rows_aligned<T>()) {
    ldmatrix_x4_trans(a, A + LA::template offset<T>(ki * KK + ((lane >> 4) << 3) + (lane & 7),
                                                     row0 + ((lane >> 3) & 1) * 8));
  } else {
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
#pragma unroll
      for (int p = 0; p < P; ++p) {
        int row = row0 + g + 8 * (j & 1), k = ki * KK + P * t + (KK / 2) * (j >> 1) + p;
        set_part(a[j], p, A[Trans ? LA::template offset<T>(k, row) : LA::template offset<T>(row, k)]);
      }
    }
  }
}

// B operand registers of the n8 atoms at col0 and col0 + 8 (Pair) or col0 alone, at k step
// ki. Register j of an n8 x kK atom holds P elements of column g at k = P t + (kK / 2) j + p.
template <bool Trans, typename LB, int KK, bool Pair, typename T>
TL_DEVICE void load_b(uint32_t* b0, uint32_t* b1, const T* B, int col0, int ki, int lane) {
  constexpr int Bytes = sizeof(T), E = 16 / Bytes, P = 4 / Bytes;
  constexpr bool kLdmatrix = LB::template rows_aligned<T>() && (Trans || Bytes == 2);
  if constexpr (kLdmatrix) {
    // Trans: stored (N, K), rows run along k; else stored (K, N), read transposed.
    const T* p = Trans ? B + LB::template offset<T>(col0 + ((lane >> 4) << 3) + (lane & 7), ki * KK + ((lane >> 3) & 1) * E)
                       : B + LB::template offset<T>(ki * KK + ((lane >> 3) & 1) * 8 + (lane & 7), col0 + ((lane >> 4) << 3));
    if constexpr (Pair) {
      uint32_t r[4];
      if constexpr (Trans) ldmatrix_x4(r, p);
      else ldmatrix_x4_trans(r, p);
      b0[0] = r[0], b0[1] = r[1], b1[0] = r[2], b1[1] = r[3];
    } else {
      if constexpr (Trans) ldmatrix_x2(b0, p);
      else ldmatrix_x2_trans(b0, p);
    }
  } else {
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int half = 0; half < (Pair ? 2 : 1); ++half) {
      uint32_t* b = half ? b1 : b0;
#pragma unroll
      for (int j = 0; j < 2; ++j) {
#pragma unroll
        for (int p = 0; p < P; ++p) {
          int n = col0 + half * 8 + g, k = ki * KK + P * t + (KK / 2) * j + p;
          set_part(b[j], p, B[Trans ? LB::template offset<T>(n, k) : LB::template offset<T>(k, n)]);
        }
      }
    }
  }
}

template <int M, int N, int K, int WarpM, int WarpN, typename A_t, typename C_t>
struct Shape {
  static constexpr int WM = M / WarpM, WN = N / WarpN, MI = WM / 16, NI = WN / 8;
  static constexpr int KK = Atom<A_t, C_t>::kK, KI = K / KK;
  static_assert(M % (16 * WarpM) == 0, "gemm: M must be a multiple of 16 * WarpM");
  static_assert(N % (8 * WarpN) == 0, "gemm: N must be a multiple of 8 * WarpN");
  static_assert(K % KK == 0, "gemm: K must be a multiple of the mma k (16; 32 for 8-bit; 8 for tf32)");
};

template <int MI, int NI, typename C_t>
TL_DEVICE void clear(C_t* C) {
#pragma unroll
  for (int i = 0; i < MI * NI * 4; ++i) C[i] = C_t(0);
}

template <int MI, int NI, typename A_t, typename C_t>
TL_DEVICE void mma_block(C_t* C, uint32_t (&a)[MI][4], uint32_t (&b)[NI][2]) {
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int n = 0; n < NI; ++n) {
      int ni = (mi & 1) ? NI - 1 - n : n;  // serpentine: reuse b across neighbouring mi
      Atom<A_t, C_t>::mma(C + (mi * NI + ni) * 4, a[mi], b[ni]);
    }
  }
}

template <int NI, bool TransB, typename LB, int KK, typename B_t>
TL_DEVICE void load_b_all(uint32_t (&b)[NI][2], const B_t* B, int col0, int ki, int lane) {
#pragma unroll
  for (int ni = 0; ni + 1 < NI; ni += 2) load_b<TransB, LB, KK, true>(b[ni], b[ni + 1], B, col0 + ni * 8, ki, lane);
  if constexpr (NI % 2 == 1) load_b<TransB, LB, KK, false>(b[NI - 1], b[NI - 1], B, col0 + (NI - 1) * 8, ki, lane);
#pragma unroll
  for (int ni = 0; ni < NI; ++ni) round_operand<B_t>(b[ni][0]), round_operand<B_t>(b[ni][1]);
}

}  // namespace gemm_detail

// C (+)= op(A) @ op(B), A and B in shared memory (pointers to their first element; A is
// (M, K), or (K, M) when TransA; B is (K, N), or (N, K) when TransB), stored as LayoutA /
// LayoutB (SmemLayout types: the stored tile may have more rows than the operand, e.g. a
// region of a larger buffer starting on a multiple of 8 rows), C the calling thread's
// accumulator registers ((M / WarpM / 16) * (N / WarpN / 8) * 4 of them). `thread` is the
// caller's index in the thread group that runs the gemm (threadIdx.x when it is the block).
template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename LayoutA,
          typename LayoutB, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_ss(const A_t* A, const B_t* B, C_t* C, int thread) {
  using S = gemm_detail::Shape<M, N, K, WarpM, WarpN, A_t, C_t>;
  constexpr int MI = S::MI, NI = S::NI, KK = S::KK;
  const int lane = thread & 31, warp = (thread >> 5) % (WarpM * WarpN);
  const int row0 = (warp % WarpM) * S::WM, col0 = (warp / WarpM) * S::WN;
  if constexpr (ClearAccum) gemm_detail::clear<MI, NI>(C);
  // fragments double-buffered in registers: step ki + 1 loads while step ki multiplies
  uint32_t a[2][MI][4], b[2][NI][2];
  auto load = [&](int ki, uint32_t (&af)[MI][4], uint32_t (&bf)[NI][2]) {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      gemm_detail::load_a<TransA, LayoutA, KK>(af[mi], A, row0 + mi * 16, ki, lane);
#pragma unroll
      for (int j = 0; j < 4; ++j) gemm_detail::round_operand<A_t>(af[mi][j]);
    }
    gemm_detail::load_b_all<NI, TransB, LayoutB, KK>(bf, B, col0, ki, lane);
  };
  load(0, a[0], b[0]);
#pragma unroll
  for (int ki = 0; ki < S::KI; ++ki) {
    if (ki + 1 < S::KI) load(ki + 1, a[(ki + 1) & 1], b[(ki + 1) & 1]);
    gemm_detail::mma_block<MI, NI, A_t>(C, a[ki & 1], b[ki & 1]);
  }
}

// As gemm_ss with A in registers: A_frag holds (M / WarpM / 16) * (K / 16) * 8 elements per
// thread in the operand-A fragment layout (see the top of this file); 16-bit types only.
// LayoutA is unused (kept so that both forms take the same template arguments).
template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename LayoutA,
          typename LayoutB, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_rs(const A_t* A_frag, const B_t* B, C_t* C, int thread) {
  static_assert(sizeof(A_t) == 2, "gemm_rs: A from registers needs a 16-bit type");
  static_assert(!TransA, "gemm_rs: a register A operand cannot be transposed");
  using S = gemm_detail::Shape<M, N, K, WarpM, WarpN, A_t, C_t>;
  constexpr int MI = S::MI, NI = S::NI, KK = S::KK;
  const int lane = thread & 31, warp = (thread >> 5) % (WarpM * WarpN);
  const int col0 = (warp / WarpM) * S::WN;
  const uint32_t* words = reinterpret_cast<const uint32_t*>(A_frag);
  if constexpr (ClearAccum) gemm_detail::clear<MI, NI>(C);
  uint32_t a[MI][4], b[2][NI][2];
  gemm_detail::load_b_all<NI, TransB, LayoutB, KK>(b[0], B, col0, 0, lane);
#pragma unroll
  for (int ki = 0; ki < S::KI; ++ki) {
    if (ki + 1 < S::KI) gemm_detail::load_b_all<NI, TransB, LayoutB, KK>(b[(ki + 1) & 1], B, col0, ki + 1, lane);
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int j = 0; j < 4; ++j) a[mi][j] = words[(mi * S::KI + ki) * 4 + j];
    }
    gemm_detail::mma_block<MI, NI, A_t>(C, a, b[ki & 1]);
  }
}

template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename LayoutA,
          typename LayoutB, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_ss(const A_t* A, const B_t* B, C_t* C) {
  gemm_ss<M, N, K, WarpM, WarpN, TransA, TransB, ClearAccum, LayoutA, LayoutB>(A, B, C, int(threadIdx.x));
}
template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename LayoutA,
          typename LayoutB, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_rs(const A_t* A_frag, const B_t* B, C_t* C) {
  gemm_rs<M, N, K, WarpM, WarpN, TransA, TransB, ClearAccum, LayoutA, LayoutB>(A_frag, B, C, int(threadIdx.x));
}

}  // namespace tl
