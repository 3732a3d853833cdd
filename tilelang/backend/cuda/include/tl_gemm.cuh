// tl_gemm.cuh: block-level tensor-core GEMM for the sm_80 path (ldmatrix + mma.sync), which
// also runs on sm_90. C (+)= op(A) @ op(B) on whole tiles, warps arranged WarpM x WarpN over
// the (M, N) tile, each warp computing (M / WarpM) x (N / WarpN) with m16n8 atoms.
//
// Layouts (the Python side, tilelang/layout/mma.py, holds them as Layout and Fragment values;
// tests/layout/test_mma.py checks that the two agree):
// - Shared operands are stored as (M, K) / (K, M) for A and (K, N) / (N, K) for B, row-major
//   or XOR-swizzled in 16-byte chunks (SmemLayout below, = tilelang.layout.swizzled).
// - Registers: the accumulator's order of m16n8 atoms (AccRegs) and a register A operand's
//   order of m16k16 atoms (ARegs) come as tables from layout/mma.py (mma_accumulator_atoms,
//   mma_operand_a_atoms, checked there against the whole fragment); inside an atom the
//   registers are in the order the mma instruction defines (lane = 4 g + t: accumulator
//   register c holds row g + 8 (c / 2), column 2 t + c % 2; A word j rows g + 8 (j % 2),
//   columns 2 t + 8 (j / 2) and the next). Warp w = wm + wn * WarpM computes rows
//   [wm * WM, (wm + 1) * WM) and columns [wn * WN, (wn + 1) * WN).
#pragma once

#include "tl.cuh"
#include "tl_tables.cuh"

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
  // Elements between rows r and r + 8 of one column block: offset(r + 8 j, c) = offset(r, c) +
  // 8 j * row_stride (the swizzle repeats every 8 rows).
  template <typename T>
  __host__ __device__ static constexpr int row_stride() { return SwizzleBytes == 0 ? Cols : SwizzleBytes / int(sizeof(T)); }
  // offset(r, c + dc) from off = offset(r, c), for c < the swizzle width and dc a multiple of
  // 32 bytes whose bits are clear in c (then c + dc = c ^ dc inside the swizzled row).
  template <typename T>
  TL_DEVICE static int advance_col(int off, int dc) {
    if constexpr (SwizzleBytes == 0) {
      return off + dc;
    } else {
      constexpr int kAtom = SwizzleBytes / int(sizeof(T));
      return (off ^ (dc % kAtom)) + (dc / kAtom) * (Rows * kAtom);
    }
  }
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

// An accumulator type for operands of type AB (the atom's k depends on AB alone).
template <typename AB> struct Accumulator { using type = float; };
template <> struct Accumulator<int8_t> { using type = int; };
template <> struct Accumulator<uint8_t> { using type = int; };

template <typename T> TL_DEVICE void round_operand(uint32_t& w) {}
template <> TL_DEVICE void round_operand<float>(uint32_t& w) { w = float_to_tf32(__uint_as_float(w)); }

// Element p of a 32-bit operand register holding 4 / sizeof(T) elements.
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

// An int the compiler may not look into: keeps lane offsets loop-invariant (hoisted out of
// the caller's k loop) instead of being folded with the stage offset of the operand pointer.
TL_DEVICE int opaque(int x) {
  asm("" : "+r"(x));
  return x;
}

// ldmatrix on 32-bit shared-window addresses (byte offsets added to smem_ptr of the tile).
TL_DEVICE void ldsm_x4(uint32_t* d, uint32_t addr, bool trans) {
  if (trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3]) : "r"(addr));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3]) : "r"(addr));
}
TL_DEVICE void ldsm_x2(uint32_t* d, uint32_t addr, bool trans) {
  if (trans)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];" : "=r"(d[0]), "=r"(d[1]) : "r"(addr));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];" : "=r"(d[0]), "=r"(d[1]) : "r"(addr));
}

// The A operand of one warp: rows [row0, row0 + MI * 16) of op(A). Register j of the m16 x kK
// atom holds P = 4 / sizeof(T) elements of row g + 8 (j % 2) at k = P t + (kK / 2)(j / 2) + p.
// ldmatrix when the stored rows run along k (.trans for 16-bit types stored (K, M)), element
// loads otherwise. Lane offsets are computed once; steps add constants.
template <bool Trans, typename LA, int KK, int MI, typename T>
struct OperandA {
  static constexpr int Bytes = sizeof(T), E = 16 / Bytes, P = 4 / Bytes, RS = LA::template row_stride<T>();
  static constexpr bool kRows = !Trans && LA::template rows_aligned<T>();               // ldmatrix
  static constexpr bool kCols = Trans && Bytes == 2 && LA::template rows_aligned<T>();  // ldmatrix.trans
  int off[kCols ? MI : 1];
  int row0, lane;

  TL_DEVICE OperandA(int row0_, int lane_) : row0(row0_), lane(lane_) {
    if constexpr (kRows) {
      off[0] = opaque(LA::template offset<T>(row0 + (lane & 15), (lane >> 4) * E));
    } else if constexpr (kCols) {
#pragma unroll
      for (int mi = 0; mi < MI; ++mi)
        off[mi] = opaque(LA::template offset<T>(((lane >> 4) << 3) + (lane & 7), row0 + mi * 16 + ((lane >> 3) & 1) * 8));
    }
  }

  TL_DEVICE void load(uint32_t* a, const T* A, uint32_t base, int mi, int ki) const {
    if constexpr (kRows) {
      ldsm_x4(a, base + (LA::template advance_col<T>(off[0], ki * KK) + mi * 16 * RS) * Bytes, false);
    } else if constexpr (kCols) {
      ldsm_x4(a, base + (off[mi] + ki * KK * RS) * Bytes, true);
    } else {
      const int g = lane >> 2, t = lane & 3;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
#pragma unroll
        for (int p = 0; p < P; ++p) {
          int row = row0 + mi * 16 + g + 8 * (j & 1), k = ki * KK + P * t + (KK / 2) * (j >> 1) + p;
          set_part(a[j], p, A[Trans ? LA::template offset<T>(k, row) : LA::template offset<T>(row, k)]);
        }
      }
    }
  }
};

// The B operand of one warp: columns [col0, col0 + NI * 8) of op(B). Register j of an n8 x kK
// atom holds P elements of column g at k = P t + (kK / 2) j + p.
template <bool Trans, typename LB, int KK, int NI, typename T>
struct OperandB {
  static constexpr int Bytes = sizeof(T), E = 16 / Bytes, P = 4 / Bytes, RS = LB::template row_stride<T>();
  static constexpr int NP = (NI + 1) / 2;  // ldmatrix.x4 pairs (the last one an .x2 when NI is odd)
  static constexpr bool kRows = Trans && LB::template rows_aligned<T>();                // stored (N, K)
  static constexpr bool kCols = !Trans && Bytes == 2 && LB::template rows_aligned<T>(); // stored (K, N)
  int off[kCols ? NP : 1];
  int col0, lane;

  TL_DEVICE OperandB(int col0_, int lane_) : col0(col0_), lane(lane_) {
    if constexpr (kRows) {
      off[0] = opaque(LB::template offset<T>(col0 + ((lane >> 4) << 3) + (lane & 7), ((lane >> 3) & 1) * E));
    } else if constexpr (kCols) {
#pragma unroll
      for (int p = 0; p < NP; ++p)
        off[p] = opaque(LB::template offset<T>(((lane >> 3) & 1) * 8 + (lane & 7), col0 + p * 16 + ((lane >> 4) << 3)));
    }
  }

  // Registers of the n8 atoms 2p and 2p + 1 (only 2p when it is the last of an odd NI).
  TL_DEVICE void load_pair(uint32_t (&b)[NI][2], const T* B, uint32_t base, int p, int ki) const {
    const bool pair = 2 * p + 1 < NI;
    if constexpr (kRows || kCols) {
      uint32_t addr = kRows ? base + (LB::template advance_col<T>(off[0], ki * KK) + p * 16 * RS) * Bytes
                            : base + (off[kCols ? p : 0] + ki * KK * RS) * Bytes;
      if (pair) {
        uint32_t r[4];
        ldsm_x4(r, addr, kCols);
        b[2 * p][0] = r[0], b[2 * p][1] = r[1], b[2 * p + 1][0] = r[2], b[2 * p + 1][1] = r[3];
      } else {
        ldsm_x2(b[2 * p], addr, kCols);
      }
    } else {
      const int g = lane >> 2, t = lane & 3;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        if (h == 1 && !pair) break;
#pragma unroll
        for (int j = 0; j < 2; ++j) {
#pragma unroll
          for (int q = 0; q < P; ++q) {
            int n = col0 + (2 * p + h) * 8 + g, k = ki * KK + P * t + (KK / 2) * j + q;
            set_part(b[2 * p + h][j], q, B[Trans ? LB::template offset<T>(n, k) : LB::template offset<T>(k, n)]);
          }
        }
      }
    }
  }

  TL_DEVICE void load(uint32_t (&b)[NI][2], const T* B, uint32_t base, int ki) const {
#pragma unroll
    for (int p = 0; p < NP; ++p) load_pair(b, B, base, p, ki);
#pragma unroll
    for (int ni = 0; ni < NI; ++ni) round_operand<T>(b[ni][0]), round_operand<T>(b[ni][1]);
  }
};

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

// AccRegs: the register of each m16n8 atom's first element, (mi, ni) mi-major (Python:
// layout/mma.py mma_accumulator_atoms); the atom's 4 registers follow in the PTX order.
template <int MI, int NI, typename A_t, typename AccRegs, typename C_t>
TL_DEVICE void mma_block(C_t* C, const uint32_t (&a)[MI][4], const uint32_t (&b)[NI][2]) {
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int n = 0; n < NI; ++n) {
      int ni = (mi & 1) ? NI - 1 - n : n;  // serpentine: reuse b across neighbouring mi
      Atom<A_t, C_t>::mma(C + AccRegs::at(mi * NI + ni), a[mi], b[ni]);
    }
  }
}

// The shared A and B operands of one warp of a gemm_ss: load(ki) reads k-step ki's fragments.
template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, typename LayoutA, typename LayoutB,
          typename A_t, typename B_t, typename C_t>
struct SharedOperands {
  using S = Shape<M, N, K, WarpM, WarpN, A_t, C_t>;
  static constexpr int MI = S::MI, NI = S::NI, KK = S::KK, KI = S::KI;
  const uint32_t a_base, b_base;
  const OperandA<TransA, LayoutA, KK, MI, A_t> op_a;
  const OperandB<TransB, LayoutB, KK, NI, B_t> op_b;

  TL_DEVICE SharedOperands(const A_t* A, const B_t* B, int thread)
      : a_base(smem_ptr(A)), b_base(smem_ptr(B)),
        op_a(((thread >> 5) % (WarpM * WarpN) % WarpM) * S::WM, thread & 31),
        op_b(((thread >> 5) % (WarpM * WarpN) / WarpM) * S::WN, thread & 31) {}

  TL_DEVICE void load(const A_t* A, const B_t* B, int ki, uint32_t (&af)[MI][4], uint32_t (&bf)[NI][2]) const {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      op_a.load(af[mi], A, a_base, mi, ki);
#pragma unroll
      for (int j = 0; j < 4; ++j) round_operand<A_t>(af[mi][j]);
    }
    op_b.load(bf, B, b_base, ki);
  }
};

// The A and B fragments of one k-step (MI * 4 + NI * 2 registers), as the lowering allocates them.
template <int MI, int NI>
struct FragmentSet {
  uint32_t a[MI][4], b[NI][2];
};

}  // namespace gemm_detail

// C (+)= op(A) @ op(B), A and B in shared memory (pointers to their first element; A is
// (M, K), or (K, M) when TransA; B is (K, N), or (N, K) when TransB), stored as LayoutA /
// LayoutB (SmemLayout types: the stored tile may have more rows than the operand, e.g. a
// region of a larger buffer starting on a multiple of 8 rows), C the calling thread's
// accumulator registers ((M / WarpM / 16) * (N / WarpN / 8) * 4 of them). `thread` is the
// caller's index in the thread group that runs the gemm (threadIdx.x when it is the block).
// The lowering emits it as its three parts, so that a pass can schedule them apart:
//   gemm_ss_load_step0   k-step 0's fragments into `step0` (reads shared memory)
//   gemm_ss_steps        k-steps 0 .. KI-2 (step 0 from `step0`), loading steps 1 .. KI-1 into
//                        the two fragment sets of `work` (step ki in set ki % 2)
//   gemm_mma_last        k-step KI-1 from its fragment set (registers only)
template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename LayoutA,
          typename LayoutB, typename AccRegs, typename A_t, typename B_t>
TL_DEVICE void gemm_ss_load_step0(const A_t* A, const B_t* B, uint32_t* step0, int thread) {
  using Ops = gemm_detail::SharedOperands<M, N, K, WarpM, WarpN, TransA, TransB, LayoutA, LayoutB, A_t, B_t,
                                          typename gemm_detail::Accumulator<A_t>::type>;
  auto& f = *reinterpret_cast<gemm_detail::FragmentSet<Ops::MI, Ops::NI>*>(step0);
  Ops(A, B, thread).load(A, B, 0, f.a, f.b);
}

template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename LayoutA,
          typename LayoutB, typename AccRegs, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_ss_steps(const A_t* A, const B_t* B, C_t* C, const uint32_t* step0, uint32_t* work, int thread) {
  using Ops = gemm_detail::SharedOperands<M, N, K, WarpM, WarpN, TransA, TransB, LayoutA, LayoutB, A_t, B_t, C_t>;
  using Set = gemm_detail::FragmentSet<Ops::MI, Ops::NI>;
  if constexpr (ClearAccum) gemm_detail::clear<Ops::MI, Ops::NI>(C);
  const Set& f0 = *reinterpret_cast<const Set*>(step0);
  Set* w = reinterpret_cast<Set*>(work);
  const Ops ops(A, B, thread);
#pragma unroll
  for (int ki = 0; ki + 1 < Ops::KI; ++ki) {
    ops.load(A, B, ki + 1, w[(ki + 1) & 1].a, w[(ki + 1) & 1].b);
    const Set& f = ki == 0 ? f0 : w[ki & 1];
    gemm_detail::mma_block<Ops::MI, Ops::NI, A_t, AccRegs>(C, f.a, f.b);
  }
}

template <int M, int N, int K, int WarpM, int WarpN, typename A_t, typename AccRegs, typename C_t>
TL_DEVICE void gemm_mma_last(C_t* C, const uint32_t* frags) {
  using S = gemm_detail::Shape<M, N, K, WarpM, WarpN, A_t, C_t>;
  const auto& f = *reinterpret_cast<const gemm_detail::FragmentSet<S::MI, S::NI>*>(frags);
  gemm_detail::mma_block<S::MI, S::NI, A_t, AccRegs>(C, f.a, f.b);
}

template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename LayoutA,
          typename LayoutB, typename AccRegs, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_ss(const A_t* A, const B_t* B, C_t* C, int thread) {
  using S = gemm_detail::Shape<M, N, K, WarpM, WarpN, A_t, C_t>;
  constexpr int kWords = S::MI * 4 + S::NI * 2;
  uint32_t step0[kWords], work[2 * kWords];
  gemm_ss_load_step0<M, N, K, WarpM, WarpN, TransA, TransB, ClearAccum, LayoutA, LayoutB, AccRegs>(A, B, step0,
                                                                                                   thread);
  gemm_ss_steps<M, N, K, WarpM, WarpN, TransA, TransB, ClearAccum, LayoutA, LayoutB, AccRegs>(A, B, C, step0, work,
                                                                                              thread);
  gemm_mma_last<M, N, K, WarpM, WarpN, A_t, AccRegs>(C, S::KI == 1 ? step0 : work + (S::KI - 1) % 2 * kWords);
}

// As gemm_ss with A in registers: A_frag holds (M / WarpM / 16) * (K / 16) * 8 elements per
// thread in the operand-A fragment layout; 16-bit types only. ARegs: the 32-bit word of each
// m16k16 atom's first element, (mi, ki) mi-major (layout/mma.py mma_operand_a_atoms); its 4
// words follow in the PTX order.
template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename ARegs,
          typename LayoutB, typename AccRegs, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_rs(const A_t* A_frag, const B_t* B, C_t* C, int thread) {
  static_assert(sizeof(A_t) == 2, "gemm_rs: A from registers needs a 16-bit type");
  static_assert(!TransA, "gemm_rs: a register A operand cannot be transposed");
  using S = gemm_detail::Shape<M, N, K, WarpM, WarpN, A_t, C_t>;
  constexpr int MI = S::MI, NI = S::NI, KK = S::KK;
  const int lane = thread & 31, warp = (thread >> 5) % (WarpM * WarpN);
  const int col0 = (warp / WarpM) * S::WN;
  const uint32_t* words = reinterpret_cast<const uint32_t*>(A_frag);
  if constexpr (ClearAccum) gemm_detail::clear<MI, NI>(C);
  const uint32_t b_base = smem_ptr(B);
  const gemm_detail::OperandB<TransB, LayoutB, KK, NI, B_t> op_b(col0, lane);
  uint32_t a[MI][4], b[2][NI][2];
  op_b.load(b[0], B, b_base, 0);
#pragma unroll
  for (int ki = 0; ki < S::KI; ++ki) {
    if (ki + 1 < S::KI) op_b.load(b[(ki + 1) & 1], B, b_base, ki + 1);
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int j = 0; j < 4; ++j) a[mi][j] = words[ARegs::at(mi * S::KI + ki) + j];
    }
    gemm_detail::mma_block<MI, NI, A_t, AccRegs>(C, a, b[ki & 1]);
  }
}

template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename LayoutA,
          typename LayoutB, typename AccRegs, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_ss(const A_t* A, const B_t* B, C_t* C) {
  gemm_ss<M, N, K, WarpM, WarpN, TransA, TransB, ClearAccum, LayoutA, LayoutB, AccRegs>(A, B, C, int(threadIdx.x));
}
template <int M, int N, int K, int WarpM, int WarpN, bool TransA, bool TransB, bool ClearAccum, typename ARegs,
          typename LayoutB, typename AccRegs, typename A_t, typename B_t, typename C_t>
TL_DEVICE void gemm_rs(const A_t* A_frag, const B_t* B, C_t* C) {
  gemm_rs<M, N, K, WarpM, WarpN, TransA, TransB, ClearAccum, ARegs, LayoutB, AccRegs>(A_frag, B, C,
                                                                                     int(threadIdx.x));
}

}  // namespace tl
