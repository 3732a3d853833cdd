// tl.cuh: TileLang's device library. Small named primitives, each a few lines of inline PTX
// with the PTX instruction named in a comment. Self-contained: it includes no CUDA header, so
// NVRTC needs no toolkit include directory.
//
// Conventions
// - Destination first: cp_async_16(smem_dst, gmem_src), ldmatrix_x4(regs_dst, smem_src),
//   stmatrix_x4(smem_dst, regs_src), tma_load_2d(smem_dst, desc, bar, c0, c1).
// - Register fragments are passed as pointers to arrays of 32-bit words (`void*`), so a
//   fragment declared as half_t frag[8] is passed as `frag` without casts.
// - TMA coordinates are innermost (fastest-varying) dimension first, as in PTX.
// - sm_90 parts are guarded by TL_SM90, sm_90a parts (wgmma, setmaxnreg) by TL_SM90A.
#pragma once

#define TL_DEVICE __device__ __forceinline__

// nvcc's host pass does not define __CUDA_ARCH__; it must still see every declaration.
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#define TL_SM90 1
#endif
#if !defined(__CUDA_ARCH__) || defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define TL_SM90A 1
#endif

// ---------------------------------------------------------------------------------------------
// Fixed-width integers (NVRTC has no <cstdint>; the typedefs match glibc's on LP64).
#if defined(__CUDACC_RTC__)
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t;
typedef unsigned long uint64_t;
#else
#include <cstdint>
#endif

namespace tl {

template <typename To, typename From>
TL_DEVICE To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast needs equal sizes");
  To to;
  memcpy(&to, &from, sizeof(To));
  return to;
}

// Shared-memory address (32-bit, .shared window) of a generic pointer.
TL_DEVICE uint32_t smem_ptr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));  // cvta.to.shared.u64
}

// ---------------------------------------------------------------------------------------------
// Scalar types. Arithmetic promotes to float (operator float is implicit, there are no
// half_t operators), assignment from float rounds to nearest even. When the two branches of
// a ?: differ in type the caller must cast one of them.

struct alignas(2) half_t {
  uint16_t bits;
  half_t() = default;
  TL_DEVICE half_t(float f) { asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(f)); }
  TL_DEVICE operator float() const {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
    return f;
  }
  TL_DEVICE static half_t from_bits(uint16_t b) {
    half_t h;
    h.bits = b;
    return h;
  }
  TL_DEVICE half_t& operator+=(float v) { return *this = half_t(float(*this) + v); }
  TL_DEVICE half_t& operator-=(float v) { return *this = half_t(float(*this) - v); }
  TL_DEVICE half_t& operator*=(float v) { return *this = half_t(float(*this) * v); }
  TL_DEVICE half_t& operator/=(float v) { return *this = half_t(float(*this) / v); }
};

struct alignas(2) bfloat16_t {
  uint16_t bits;
  bfloat16_t() = default;
  TL_DEVICE bfloat16_t(float f) { asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(bits) : "f"(f)); }
  TL_DEVICE operator float() const { return __uint_as_float(uint32_t(bits) << 16); }
  TL_DEVICE static bfloat16_t from_bits(uint16_t b) {
    bfloat16_t h;
    h.bits = b;
    return h;
  }
  TL_DEVICE bfloat16_t& operator+=(float v) { return *this = bfloat16_t(float(*this) + v); }
  TL_DEVICE bfloat16_t& operator-=(float v) { return *this = bfloat16_t(float(*this) - v); }
  TL_DEVICE bfloat16_t& operator*=(float v) { return *this = bfloat16_t(float(*this) * v); }
  TL_DEVICE bfloat16_t& operator/=(float v) { return *this = bfloat16_t(float(*this) / v); }
};

struct alignas(4) half2_t {
  half_t x, y;
};
struct alignas(4) bfloat162_t {
  bfloat16_t x, y;
};

// fp8 conversions are done in software (round to nearest even, saturating to the largest
// finite value, NaN kept): correct on every architecture.
TL_DEVICE float e4m3_to_float(uint8_t b) {
  uint32_t sign = uint32_t(b & 0x80) << 24, exp = (b >> 3) & 0xF, man = b & 0x7;
  if (exp == 0xF && man == 0x7) return __uint_as_float(sign | 0x7fc00000u);
  float v = exp == 0 ? float(man) * 0.001953125f  // subnormal: man * 2^-9
                     : __uint_as_float(((exp + 120) << 23) | (man << 20));
  return __uint_as_float(__float_as_uint(v) | sign);
}
TL_DEVICE uint8_t float_to_e4m3(float f) {
  uint32_t u = __float_as_uint(f), sign = (u >> 24) & 0x80, r;
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return uint8_t(sign | 0x7F);
  if (u >= 0x3c800000u) {  // >= 2^-6: normal; round the mantissa to 3 bits
    u += 0x7FFFFu + ((u >> 20) & 1);
    r = (u >> 20) - (120u << 3);
    r = r > 0x7Eu ? 0x7Eu : r;  // 448
  } else {
    r = __float2uint_rn(__uint_as_float(u) * 512.f);  // units of 2^-9; 8 is the smallest normal
  }
  return uint8_t(r | sign);
}
TL_DEVICE float e5m2_to_float(uint8_t b) { return float(half_t::from_bits(uint16_t(b) << 8)); }
TL_DEVICE uint8_t float_to_e5m2(float f) {
  uint32_t u = __float_as_uint(f), sign = (u >> 24) & 0x80, r;
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return uint8_t(sign | 0x7F);
  if (u >= 0x38800000u) {  // >= 2^-14: normal; round the mantissa to 2 bits
    u += 0xFFFFFu + ((u >> 21) & 1);
    r = (u >> 21) - (112u << 2);
    r = r > 0x7Bu ? 0x7Bu : r;  // 57344
  } else {
    r = __float2uint_rn(__uint_as_float(u) * 65536.f);  // units of 2^-16
  }
  return uint8_t(r | sign);
}

struct float8_e4m3_t {
  uint8_t bits;
  float8_e4m3_t() = default;
  TL_DEVICE float8_e4m3_t(float f) : bits(float_to_e4m3(f)) {}
  TL_DEVICE operator float() const { return e4m3_to_float(bits); }
};
struct float8_e5m2_t {
  uint8_t bits;
  float8_e5m2_t() = default;
  TL_DEVICE float8_e5m2_t(float f) : bits(float_to_e5m2(f)) {}
  TL_DEVICE operator float() const { return e5m2_to_float(bits); }
};

// Raw storage for 2-, 4-, 8- and 16-byte vector accesses: *(vec_t<16>*)dst = *(const vec_t<16>*)src.
template <int Bytes> struct vec_storage;
template <> struct vec_storage<1> { typedef uint8_t type; };
template <> struct vec_storage<2> { typedef uint16_t type; };
template <> struct vec_storage<4> { typedef uint32_t type; };
template <> struct vec_storage<8> { typedef uint2 type; };
template <> struct vec_storage<16> { typedef uint4 type; };
template <int Bytes> using vec_t = typename vec_storage<Bytes>::type;

// Packed conversions: x goes to the low half.
TL_DEVICE half2_t float2_to_half2(float x, float y) {
  uint32_t r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(y), "f"(x));
  return bit_cast<half2_t>(r);
}
TL_DEVICE bfloat162_t float2_to_bfloat162(float x, float y) {
  uint32_t r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(y), "f"(x));
  return bit_cast<bfloat162_t>(r);
}
// float -> tf32 bits (round to nearest, ties away), for mma m16n8k8 tf32 operands.
TL_DEVICE uint32_t float_to_tf32(float f) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(f));
  return r;
}

// Packed half2 / bfloat162 math.
TL_DEVICE half2_t hadd2(half2_t a, half2_t b) {
  uint32_t r;
  asm("add.f16x2 %0, %1, %2;" : "=r"(r) : "r"(bit_cast<uint32_t>(a)), "r"(bit_cast<uint32_t>(b)));
  return bit_cast<half2_t>(r);
}
TL_DEVICE half2_t hmul2(half2_t a, half2_t b) {
  uint32_t r;
  asm("mul.f16x2 %0, %1, %2;" : "=r"(r) : "r"(bit_cast<uint32_t>(a)), "r"(bit_cast<uint32_t>(b)));
  return bit_cast<half2_t>(r);
}
TL_DEVICE half2_t hfma2(half2_t a, half2_t b, half2_t c) {
  uint32_t r;
  asm("fma.rn.f16x2 %0, %1, %2, %3;"
      : "=r"(r)
      : "r"(bit_cast<uint32_t>(a)), "r"(bit_cast<uint32_t>(b)), "r"(bit_cast<uint32_t>(c)));
  return bit_cast<half2_t>(r);
}
TL_DEVICE half2_t hmax2(half2_t a, half2_t b) {
  uint32_t r;
  asm("max.f16x2 %0, %1, %2;" : "=r"(r) : "r"(bit_cast<uint32_t>(a)), "r"(bit_cast<uint32_t>(b)));
  return bit_cast<half2_t>(r);
}
TL_DEVICE bfloat162_t hfma2(bfloat162_t a, bfloat162_t b, bfloat162_t c) {
  uint32_t r;
  asm("fma.rn.bf16x2 %0, %1, %2, %3;"
      : "=r"(r)
      : "r"(bit_cast<uint32_t>(a)), "r"(bit_cast<uint32_t>(b)), "r"(bit_cast<uint32_t>(c)));
  return bit_cast<bfloat162_t>(r);
}
TL_DEVICE bfloat162_t hadd2(bfloat162_t a, bfloat162_t b) {
  return hfma2(a, bit_cast<bfloat162_t>(0x3f803f80u), b);  // a * 1 + b: add.bf16x2 needs sm_90
}
TL_DEVICE bfloat162_t hmul2(bfloat162_t a, bfloat162_t b) {
  return hfma2(a, b, bit_cast<bfloat162_t>(0x80008000u));  // a * b + (-0)
}
TL_DEVICE bfloat162_t hmax2(bfloat162_t a, bfloat162_t b) {
  uint32_t r;
  asm("max.bf16x2 %0, %1, %2;" : "=r"(r) : "r"(bit_cast<uint32_t>(a)), "r"(bit_cast<uint32_t>(b)));
  return bit_cast<bfloat162_t>(r);
}

// ---------------------------------------------------------------------------------------------
// Constants, min/max, fast math.

template <typename T> TL_DEVICE T infinity();
template <> TL_DEVICE float infinity<float>() { return __int_as_float(0x7f800000); }
template <> TL_DEVICE double infinity<double>() { return __longlong_as_double(0x7ff0000000000000ll); }
template <> TL_DEVICE half_t infinity<half_t>() { return half_t::from_bits(0x7c00); }
template <> TL_DEVICE bfloat16_t infinity<bfloat16_t>() { return bfloat16_t::from_bits(0x7f80); }

template <typename T> TL_DEVICE T max(T a, T b) { return a > b ? a : b; }
template <typename T> TL_DEVICE T min(T a, T b) { return a < b ? a : b; }
template <> TL_DEVICE float max<float>(float a, float b) { return fmaxf(a, b); }
template <> TL_DEVICE float min<float>(float a, float b) { return fminf(a, b); }

TL_DEVICE float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
TL_DEVICE float fast_log2(float x) {
  float y;
  asm("lg2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
TL_DEVICE float fast_exp(float x) { return fast_exp2(x * 1.4426950408889634f); }
TL_DEVICE float fast_log(float x) { return fast_log2(x) * 0.6931471805599453f; }
TL_DEVICE float fast_rsqrt(float x) {
  float y;
  asm("rsqrt.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
TL_DEVICE float fast_rcp(float x) {
  float y;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
TL_DEVICE float fast_div(float a, float b) { return a * fast_rcp(b); }
TL_DEVICE float fast_tanh(float x) {
  float y;
  asm("tanh.approx.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
TL_DEVICE float fast_sin(float x) {
  float y;
  asm("sin.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
TL_DEVICE float fast_cos(float x) {
  float y;
  asm("cos.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// ---------------------------------------------------------------------------------------------
// cp.async (sm_80). The _zfill forms read nothing and write zeros when `valid` is false
// (src-size operand 0); pass any address, e.g. the tensor's base, then.

TL_DEVICE void cp_async_4(void* smem_dst, const void* gmem_src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(smem_ptr(smem_dst)), "l"(gmem_src) : "memory");
}
TL_DEVICE void cp_async_8(void* smem_dst, const void* gmem_src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 8;" ::"r"(smem_ptr(smem_dst)), "l"(gmem_src) : "memory");
}
TL_DEVICE void cp_async_16(void* smem_dst, const void* gmem_src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(smem_ptr(smem_dst)), "l"(gmem_src) : "memory");
}
TL_DEVICE void cp_async_16_ca(void* smem_dst, const void* gmem_src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 16;" ::"r"(smem_ptr(smem_dst)), "l"(gmem_src) : "memory");
}
TL_DEVICE void cp_async_4_zfill(void* smem_dst, const void* gmem_src, bool valid) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(smem_ptr(smem_dst)), "l"(gmem_src),
               "r"(valid ? 4 : 0)
               : "memory");
}
TL_DEVICE void cp_async_8_zfill(void* smem_dst, const void* gmem_src, bool valid) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;" ::"r"(smem_ptr(smem_dst)), "l"(gmem_src),
               "r"(valid ? 8 : 0)
               : "memory");
}
TL_DEVICE void cp_async_16_zfill(void* smem_dst, const void* gmem_src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(smem_ptr(smem_dst)), "l"(gmem_src),
               "r"(valid ? 16 : 0)
               : "memory");
}
TL_DEVICE void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
// Wait until at most N committed groups are still in flight.
template <int N> TL_DEVICE void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }
// Arrive on an mbarrier when this thread's earlier cp.asyncs land; counts as one of the
// barrier's expected arrivals (.noinc).
TL_DEVICE void cp_async_mbar_arrive(uint64_t* bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared.b64 [%0];" ::"r"(smem_ptr(bar)) : "memory");
}

// ---------------------------------------------------------------------------------------------
// ldmatrix (sm_75+) / stmatrix (sm_90): 8x8 b16 matrices, one 32-bit word per thread each.

TL_DEVICE void ldmatrix_x1(void* dst, const void* smem_src) {
  uint32_t* d = static_cast<uint32_t*>(dst);
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];" : "=r"(d[0]) : "r"(smem_ptr(smem_src)));
}
TL_DEVICE void ldmatrix_x2(void* dst, const void* smem_src) {
  uint32_t* d = static_cast<uint32_t*>(dst);
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];"
               : "=r"(d[0]), "=r"(d[1])
               : "r"(smem_ptr(smem_src)));
}
TL_DEVICE void ldmatrix_x4(void* dst, const void* smem_src) {
  uint32_t* d = static_cast<uint32_t*>(dst);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(smem_ptr(smem_src)));
}
TL_DEVICE void ldmatrix_x1_trans(void* dst, const void* smem_src) {
  uint32_t* d = static_cast<uint32_t*>(dst);
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];" : "=r"(d[0]) : "r"(smem_ptr(smem_src)));
}
TL_DEVICE void ldmatrix_x2_trans(void* dst, const void* smem_src) {
  uint32_t* d = static_cast<uint32_t*>(dst);
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];"
               : "=r"(d[0]), "=r"(d[1])
               : "r"(smem_ptr(smem_src)));
}
TL_DEVICE void ldmatrix_x4_trans(void* dst, const void* smem_src) {
  uint32_t* d = static_cast<uint32_t*>(dst);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(smem_ptr(smem_src)));
}

#if defined(TL_SM90)
TL_DEVICE void stmatrix_x1(void* smem_dst, const void* src) {
  const uint32_t* s = static_cast<const uint32_t*>(src);
  asm volatile("stmatrix.sync.aligned.m8n8.x1.shared.b16 [%0], {%1};" ::"r"(smem_ptr(smem_dst)), "r"(s[0]) : "memory");
}
TL_DEVICE void stmatrix_x2(void* smem_dst, const void* src) {
  const uint32_t* s = static_cast<const uint32_t*>(src);
  asm volatile("stmatrix.sync.aligned.m8n8.x2.shared.b16 [%0], {%1, %2};" ::"r"(smem_ptr(smem_dst)), "r"(s[0]),
               "r"(s[1])
               : "memory");
}
TL_DEVICE void stmatrix_x4(void* smem_dst, const void* src) {
  const uint32_t* s = static_cast<const uint32_t*>(src);
  asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};" ::"r"(smem_ptr(smem_dst)),
               "r"(s[0]), "r"(s[1]), "r"(s[2]), "r"(s[3])
               : "memory");
}
TL_DEVICE void stmatrix_x1_trans(void* smem_dst, const void* src) {
  const uint32_t* s = static_cast<const uint32_t*>(src);
  asm volatile("stmatrix.sync.aligned.m8n8.x1.trans.shared.b16 [%0], {%1};" ::"r"(smem_ptr(smem_dst)), "r"(s[0])
               : "memory");
}
TL_DEVICE void stmatrix_x2_trans(void* smem_dst, const void* src) {
  const uint32_t* s = static_cast<const uint32_t*>(src);
  asm volatile("stmatrix.sync.aligned.m8n8.x2.trans.shared.b16 [%0], {%1, %2};" ::"r"(smem_ptr(smem_dst)),
               "r"(s[0]), "r"(s[1])
               : "memory");
}
TL_DEVICE void stmatrix_x4_trans(void* smem_dst, const void* src) {
  const uint32_t* s = static_cast<const uint32_t*>(src);
  asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};" ::"r"(smem_ptr(smem_dst)),
               "r"(s[0]), "r"(s[1]), "r"(s[2]), "r"(s[3])
               : "memory");
}
#endif

// ---------------------------------------------------------------------------------------------
// mma.sync: C += A * B with A row-major and B column-major fragments; c is updated in place.

// mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32: c float[4], a 4 words, b 2 words.
TL_DEVICE void mma_m16n8k16_f16f32(float* c, const void* a, const void* b) {
  const uint32_t* A = static_cast<const uint32_t*>(a);
  const uint32_t* B = static_cast<const uint32_t*>(b);
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(A[0]), "r"(A[1]), "r"(A[2]), "r"(A[3]), "r"(B[0]), "r"(B[1]));
}
// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
TL_DEVICE void mma_m16n8k16_bf16f32(float* c, const void* a, const void* b) {
  const uint32_t* A = static_cast<const uint32_t*>(a);
  const uint32_t* B = static_cast<const uint32_t*>(b);
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(A[0]), "r"(A[1]), "r"(A[2]), "r"(A[3]), "r"(B[0]), "r"(B[1]));
}
// mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16: c is 2 words (4 halves).
TL_DEVICE void mma_m16n8k16_f16f16(void* c, const void* a, const void* b) {
  uint32_t* C = static_cast<uint32_t*>(c);
  const uint32_t* A = static_cast<const uint32_t*>(a);
  const uint32_t* B = static_cast<const uint32_t*>(b);
  asm("mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%0, %1}, {%2, %3, %4, %5}, {%6, %7}, {%0, %1};"
      : "+r"(C[0]), "+r"(C[1])
      : "r"(A[0]), "r"(A[1]), "r"(A[2]), "r"(A[3]), "r"(B[0]), "r"(B[1]));
}
// mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32: c int[4], a 4 words, b 2 words.
TL_DEVICE void mma_m16n8k32_s8s32(int* c, const void* a, const void* b) {
  const uint32_t* A = static_cast<const uint32_t*>(a);
  const uint32_t* B = static_cast<const uint32_t*>(b);
  asm("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(A[0]), "r"(A[1]), "r"(A[2]), "r"(A[3]), "r"(B[0]), "r"(B[1]));
}
// mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32
TL_DEVICE void mma_m16n8k32_u8s32(int* c, const void* a, const void* b) {
  const uint32_t* A = static_cast<const uint32_t*>(a);
  const uint32_t* B = static_cast<const uint32_t*>(b);
  asm("mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(A[0]), "r"(A[1]), "r"(A[2]), "r"(A[3]), "r"(B[0]), "r"(B[1]));
}
// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32: a 4 words, b 2 words (tf32 bits).
TL_DEVICE void mma_m16n8k8_tf32f32(float* c, const void* a, const void* b) {
  const uint32_t* A = static_cast<const uint32_t*>(a);
  const uint32_t* B = static_cast<const uint32_t*>(b);
  asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(A[0]), "r"(A[1]), "r"(A[2]), "r"(A[3]), "r"(B[0]), "r"(B[1]));
}

// ---------------------------------------------------------------------------------------------
// Warp shuffles (shfl.sync, full warp) for any 2-, 4- or 8-byte type, and all-reduces.

namespace detail {
template <typename T, typename Shuffle>
TL_DEVICE T shuffle_words(T v, Shuffle shuffle) {
  static_assert(sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8, "shuffle needs a 2-, 4- or 8-byte type");
  if constexpr (sizeof(T) == 8) {
    uint2 w = bit_cast<uint2>(v);
    w.x = shuffle(w.x);
    w.y = shuffle(w.y);
    return bit_cast<T>(w);
  } else {
    uint32_t w = 0;
    memcpy(&w, &v, sizeof(T));
    w = shuffle(w);
    T r;
    memcpy(&r, &w, sizeof(T));
    return r;
  }
}
}  // namespace detail

// shfl.sync.bfly.b32
template <typename T> TL_DEVICE T shfl_xor(T v, int lane_mask, int width = 32) {
  return detail::shuffle_words(v, [=](uint32_t w) { return __shfl_xor_sync(0xffffffffu, w, lane_mask, width); });
}
// shfl.sync.down.b32
template <typename T> TL_DEVICE T shfl_down(T v, int delta, int width = 32) {
  return detail::shuffle_words(v, [=](uint32_t w) { return __shfl_down_sync(0xffffffffu, w, delta, width); });
}
// shfl.sync.up.b32
template <typename T> TL_DEVICE T shfl_up(T v, int delta, int width = 32) {
  return detail::shuffle_words(v, [=](uint32_t w) { return __shfl_up_sync(0xffffffffu, w, delta, width); });
}
// shfl.sync.idx.b32
template <typename T> TL_DEVICE T shfl_idx(T v, int src_lane, int width = 32) {
  return detail::shuffle_words(v, [=](uint32_t w) { return __shfl_sync(0xffffffffu, w, src_lane, width); });
}

struct SumOp {
  template <typename T> TL_DEVICE T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <typename T> TL_DEVICE T operator()(T a, T b) const { return tl::max(a, b); }
};
struct MinOp {
  template <typename T> TL_DEVICE T operator()(T a, T b) const { return tl::min(a, b); }
};

// All-reduce over groups of Width lanes whose lane ids differ by multiples of Stride
// (xor masks Stride*Width/2 ... Stride); every lane of a group gets the result.
// Quad reduce of an mma accumulator row: <4>; across its 8 rows: <8, 4>.
template <typename Op, int Width = 32, int Stride = 1, typename T>
TL_DEVICE T warp_allreduce(T v) {
  static_assert(Width >= 1 && (Width & (Width - 1)) == 0 && Width * Stride <= 32, "bad warp_allreduce shape");
#pragma unroll
  for (int mask = Width / 2; mask > 0; mask /= 2) v = Op()(v, shfl_xor(v, mask * Stride));
  return v;
}
template <int Width = 32, int Stride = 1, typename T> TL_DEVICE T warp_allreduce_sum(T v) {
  return warp_allreduce<SumOp, Width, Stride>(v);
}
template <int Width = 32, int Stride = 1, typename T> TL_DEVICE T warp_allreduce_max(T v) {
  return warp_allreduce<MaxOp, Width, Stride>(v);
}
template <int Width = 32, int Stride = 1, typename T> TL_DEVICE T warp_allreduce_min(T v) {
  return warp_allreduce<MinOp, Width, Stride>(v);
}

// ---------------------------------------------------------------------------------------------
// Atomics. Each returns the old value.

namespace detail {
// atom.cas.b16 loop applying `update` to a 16-bit word.
template <typename F> TL_DEVICE uint16_t atomic_update16(void* addr, F update) {
  uint16_t old = *static_cast<volatile uint16_t*>(addr), assumed;
  do {
    assumed = old;
    uint16_t desired = update(assumed);
    asm volatile("atom.cas.b16 %0, [%1], %2, %3;" : "=h"(old) : "l"(addr), "h"(assumed), "h"(desired) : "memory");
  } while (old != assumed);
  return old;
}
// atom.cas.b32 loop applying `update` to a 32-bit word.
template <typename F> TL_DEVICE uint32_t atomic_update32(void* addr, F update) {
  uint32_t old = *static_cast<volatile uint32_t*>(addr), assumed;
  do {
    assumed = old;
    old = atomicCAS(static_cast<unsigned*>(addr), assumed, update(assumed));
  } while (old != assumed);
  return old;
}
}  // namespace detail

TL_DEVICE float atomic_add(float* addr, float v) { return atomicAdd(addr, v); }  // atom.add.f32
TL_DEVICE double atomic_add(double* addr, double v) { return atomicAdd(addr, v); }
TL_DEVICE int atomic_add(int* addr, int v) { return atomicAdd(addr, v); }
TL_DEVICE unsigned atomic_add(unsigned* addr, unsigned v) { return atomicAdd(addr, v); }
TL_DEVICE int64_t atomic_add(int64_t* addr, int64_t v) {
  return int64_t(atomicAdd(reinterpret_cast<unsigned long long*>(addr), (unsigned long long)v));
}
TL_DEVICE half_t atomic_add(half_t* addr, half_t v) {
  uint16_t old;
  asm volatile("atom.add.noftz.f16 %0, [%1], %2;" : "=h"(old) : "l"(addr), "h"(v.bits) : "memory");
  return half_t::from_bits(old);
}
TL_DEVICE bfloat16_t atomic_add(bfloat16_t* addr, bfloat16_t v) {
#if defined(TL_SM90)
  uint16_t old;
  asm volatile("atom.add.noftz.bf16 %0, [%1], %2;" : "=h"(old) : "l"(addr), "h"(v.bits) : "memory");
  return bfloat16_t::from_bits(old);
#else
  return bfloat16_t::from_bits(detail::atomic_update16(
      addr, [=](uint16_t b) { return bfloat16_t(float(bfloat16_t::from_bits(b)) + float(v)).bits; }));
#endif
}
// Vectorized adds: atom.add.noftz.f16x2, atom.add.noftz.bf16x2 (sm_90), atom.global.v2/v4.f32.add (sm_90).
TL_DEVICE half2_t atomic_add(half2_t* addr, half2_t v) {
  uint32_t old;
  asm volatile("atom.add.noftz.f16x2 %0, [%1], %2;" : "=r"(old) : "l"(addr), "r"(bit_cast<uint32_t>(v)) : "memory");
  return bit_cast<half2_t>(old);
}
TL_DEVICE bfloat162_t atomic_add(bfloat162_t* addr, bfloat162_t v) {
#if defined(TL_SM90)
  uint32_t old;
  asm volatile("atom.add.noftz.bf16x2 %0, [%1], %2;" : "=r"(old) : "l"(addr), "r"(bit_cast<uint32_t>(v)) : "memory");
  return bit_cast<bfloat162_t>(old);
#else
  return bit_cast<bfloat162_t>(
      detail::atomic_update32(addr, [=](uint32_t w) { return bit_cast<uint32_t>(hadd2(bit_cast<bfloat162_t>(w), v)); }));
#endif
}
#if defined(TL_SM90)
TL_DEVICE float2 atomic_add(float2* addr, float2 v) {
  float2 old;
  asm volatile("atom.global.v2.f32.add {%0, %1}, [%2], {%3, %4};"
               : "=f"(old.x), "=f"(old.y)
               : "l"(addr), "f"(v.x), "f"(v.y)
               : "memory");
  return old;
}
TL_DEVICE float4 atomic_add(float4* addr, float4 v) {
  float4 old;
  asm volatile("atom.global.v4.f32.add {%0, %1, %2, %3}, [%4], {%5, %6, %7, %8};"
               : "=f"(old.x), "=f"(old.y), "=f"(old.z), "=f"(old.w)
               : "l"(addr), "f"(v.x), "f"(v.y), "f"(v.z), "f"(v.w)
               : "memory");
  return old;
}
#endif

TL_DEVICE int atomic_max(int* addr, int v) { return atomicMax(addr, v); }  // atom.max.s32
TL_DEVICE int atomic_min(int* addr, int v) { return atomicMin(addr, v); }
TL_DEVICE unsigned atomic_max(unsigned* addr, unsigned v) { return atomicMax(addr, v); }
TL_DEVICE unsigned atomic_min(unsigned* addr, unsigned v) { return atomicMin(addr, v); }
TL_DEVICE int64_t atomic_max(int64_t* addr, int64_t v) {
  return int64_t(atomicMax(reinterpret_cast<long long*>(addr), (long long)v));
}
TL_DEVICE int64_t atomic_min(int64_t* addr, int64_t v) {
  return int64_t(atomicMin(reinterpret_cast<long long*>(addr), (long long)v));
}
// Floats order like signed ints when the sign bit is clear and like reversed unsigned ints
// when it is set, so one integer atom.max/atom.min does the job (-0.0 takes the second path).
TL_DEVICE float atomic_max(float* addr, float v) {
  return (__float_as_uint(v) >> 31) == 0 ? __int_as_float(atomicMax(reinterpret_cast<int*>(addr), __float_as_int(v)))
                                          : __uint_as_float(atomicMin(reinterpret_cast<unsigned*>(addr), __float_as_uint(v)));
}
TL_DEVICE float atomic_min(float* addr, float v) {
  return (__float_as_uint(v) >> 31) == 0 ? __int_as_float(atomicMin(reinterpret_cast<int*>(addr), __float_as_int(v)))
                                          : __uint_as_float(atomicMax(reinterpret_cast<unsigned*>(addr), __float_as_uint(v)));
}
TL_DEVICE half_t atomic_max(half_t* addr, half_t v) {
  return half_t::from_bits(detail::atomic_update16(
      addr, [=](uint16_t b) { return float(half_t::from_bits(b)) < float(v) ? v.bits : b; }));
}
TL_DEVICE half_t atomic_min(half_t* addr, half_t v) {
  return half_t::from_bits(detail::atomic_update16(
      addr, [=](uint16_t b) { return float(half_t::from_bits(b)) > float(v) ? v.bits : b; }));
}
TL_DEVICE bfloat16_t atomic_max(bfloat16_t* addr, bfloat16_t v) {
  return bfloat16_t::from_bits(detail::atomic_update16(
      addr, [=](uint16_t b) { return float(bfloat16_t::from_bits(b)) < float(v) ? v.bits : b; }));
}
TL_DEVICE bfloat16_t atomic_min(bfloat16_t* addr, bfloat16_t v) {
  return bfloat16_t::from_bits(detail::atomic_update16(
      addr, [=](uint16_t b) { return float(bfloat16_t::from_bits(b)) > float(v) ? v.bits : b; }));
}

// ---------------------------------------------------------------------------------------------
// Barriers. mbarriers live in shared memory as uint64_t.

TL_DEVICE void syncthreads() { __syncthreads(); }  // bar.sync 0
TL_DEVICE void syncwarp() { __syncwarp(); }        // bar.warp.sync
// bar.sync id, count: count threads (a multiple of 32) meet at named barrier id (1..15; 0 is __syncthreads).
TL_DEVICE void named_barrier_sync(int id, int count) { asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(count) : "memory"); }
// bar.arrive id, count: arrive without waiting (producer side).
TL_DEVICE void named_barrier_arrive(int id, int count) {
  asm volatile("bar.arrive %0, %1;" ::"r"(id), "r"(count) : "memory");
}

// mbarrier.init.shared.b64
TL_DEVICE void mbar_init(uint64_t* bar, int count) {
  asm volatile("mbarrier.init.shared.b64 [%0], %1;" ::"r"(smem_ptr(bar)), "r"(count) : "memory");
}
// mbarrier.arrive.shared.b64
TL_DEVICE void mbar_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared.b64 _, [%0];" ::"r"(smem_ptr(bar)) : "memory");
}
// True once the phase with the given parity has completed. sm_90: mbarrier.try_wait.parity
// (suspends for a while); sm_80: mbarrier.test_wait.parity.
TL_DEVICE bool mbar_try_wait(uint64_t* bar, int parity) {
  uint32_t done;
#if defined(TL_SM90)
  asm volatile(
      "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
      : "=r"(done)
      : "r"(smem_ptr(bar)), "r"(parity)
      : "memory");
#else
  asm volatile("{\n .reg .pred p;\n mbarrier.test_wait.parity.shared.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
               : "=r"(done)
               : "r"(smem_ptr(bar)), "r"(parity)
               : "memory");
#endif
  return done != 0;
}
TL_DEVICE void mbar_wait(uint64_t* bar, int parity) {
  while (!mbar_try_wait(bar, parity)) {
  }
}

#if defined(TL_SM90)
// mbarrier.arrive.expect_tx.shared::cta.b64: arrive and expect `bytes` more transaction bytes.
TL_DEVICE void mbar_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_ptr(bar)), "r"(bytes) : "memory");
}
// mbarrier.expect_tx.relaxed.cta.shared::cta.b64: expect bytes without arriving.
TL_DEVICE void mbar_expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;" ::"r"(smem_ptr(bar)), "r"(bytes) : "memory");
}
// fence.mbarrier_init.release.cluster: make mbar_init visible to the async proxy / cluster.
TL_DEVICE void fence_mbarrier_init() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }
// fence.proxy.async.shared::cta: order this thread's generic shared-memory writes before
// later async-proxy (TMA, wgmma) accesses, and vice versa.
TL_DEVICE void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }

// elect.sync: true in exactly one active lane of the warp.
TL_DEVICE bool elect_one_sync() {
  uint32_t pred;
  asm volatile("{\n .reg .pred p;\n elect.sync _|p, 0xffffffff;\n selp.u32 %0, 1, 0, p;\n}" : "=r"(pred));
  return pred != 0;
}
// barrier.cluster.arrive / barrier.cluster.wait; cluster_ctarank reads %cluster_ctarank.
TL_DEVICE void cluster_arrive() { asm volatile("barrier.cluster.arrive.aligned;" ::: "memory"); }
TL_DEVICE void cluster_wait() { asm volatile("barrier.cluster.wait.aligned;" ::: "memory"); }
TL_DEVICE void cluster_sync() {
  cluster_arrive();
  cluster_wait();
}
TL_DEVICE uint32_t cluster_ctarank() {
  uint32_t r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
  return r;
}

// ---------------------------------------------------------------------------------------------
// TMA (sm_90): cp.async.bulk.tensor. The descriptor is a 128-byte CUtensorMap passed by value
// as a `const __grid_constant__ tl::TmaDescriptor` kernel parameter; pass its address.
// Loads complete on the mbarrier (transaction bytes); stores are committed and waited in groups.

struct alignas(64) TmaDescriptor {
  uint64_t opaque[16];
};

// cp.async.bulk.tensor.Nd.shared::cluster.global.mbarrier::complete_tx::bytes
TL_DEVICE void tma_load_1d(void* smem_dst, const TmaDescriptor* desc, uint64_t* bar, int c0) {
  asm volatile(
      "cp.async.bulk.tensor.1d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3}], [%2];" ::"r"(
          smem_ptr(smem_dst)),
      "l"(desc), "r"(smem_ptr(bar)), "r"(c0)
      : "memory");
}
TL_DEVICE void tma_load_2d(void* smem_dst, const TmaDescriptor* desc, uint64_t* bar, int c0, int c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];" ::"r"(
          smem_ptr(smem_dst)),
      "l"(desc), "r"(smem_ptr(bar)), "r"(c0), "r"(c1)
      : "memory");
}
TL_DEVICE void tma_load_3d(void* smem_dst, const TmaDescriptor* desc, uint64_t* bar, int c0, int c1, int c2) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], "
      "[%2];" ::"r"(smem_ptr(smem_dst)),
      "l"(desc), "r"(smem_ptr(bar)), "r"(c0), "r"(c1), "r"(c2)
      : "memory");
}
TL_DEVICE void tma_load_4d(void* smem_dst, const TmaDescriptor* desc, uint64_t* bar, int c0, int c1, int c2, int c3) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5, %6}], "
      "[%2];" ::"r"(smem_ptr(smem_dst)),
      "l"(desc), "r"(smem_ptr(bar)), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
      : "memory");
}
TL_DEVICE void tma_load_5d(void* smem_dst, const TmaDescriptor* desc, uint64_t* bar, int c0, int c1, int c2, int c3,
                           int c4) {
  asm volatile(
      "cp.async.bulk.tensor.5d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5, %6, "
      "%7}], [%2];" ::"r"(smem_ptr(smem_dst)),
      "l"(desc), "r"(smem_ptr(bar)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4)
      : "memory");
}

// cp.async.bulk.tensor.Nd.global.shared::cta.bulk_group
TL_DEVICE void tma_store_1d(const TmaDescriptor* desc, const void* smem_src, int c0) {
  asm volatile("cp.async.bulk.tensor.1d.global.shared::cta.bulk_group [%0, {%2}], [%1];" ::"l"(desc),
               "r"(smem_ptr(smem_src)), "r"(c0)
               : "memory");
}
TL_DEVICE void tma_store_2d(const TmaDescriptor* desc, const void* smem_src, int c0, int c1) {
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%2, %3}], [%1];" ::"l"(desc),
               "r"(smem_ptr(smem_src)), "r"(c0), "r"(c1)
               : "memory");
}
TL_DEVICE void tma_store_3d(const TmaDescriptor* desc, const void* smem_src, int c0, int c1, int c2) {
  asm volatile("cp.async.bulk.tensor.3d.global.shared::cta.bulk_group [%0, {%2, %3, %4}], [%1];" ::"l"(desc),
               "r"(smem_ptr(smem_src)), "r"(c0), "r"(c1), "r"(c2)
               : "memory");
}
TL_DEVICE void tma_store_4d(const TmaDescriptor* desc, const void* smem_src, int c0, int c1, int c2, int c3) {
  asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.bulk_group [%0, {%2, %3, %4, %5}], [%1];" ::"l"(desc),
               "r"(smem_ptr(smem_src)), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
               : "memory");
}
TL_DEVICE void tma_store_5d(const TmaDescriptor* desc, const void* smem_src, int c0, int c1, int c2, int c3, int c4) {
  asm volatile("cp.async.bulk.tensor.5d.global.shared::cta.bulk_group [%0, {%2, %3, %4, %5, %6}], [%1];" ::"l"(desc),
               "r"(smem_ptr(smem_src)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4)
               : "memory");
}
// cp.async.bulk.commit_group
TL_DEVICE void tma_store_commit() { asm volatile("cp.async.bulk.commit_group;" ::: "memory"); }
// cp.async.bulk.wait_group.read N: at most N store groups still read shared memory.
template <int N> TL_DEVICE void tma_store_wait() {
  asm volatile("cp.async.bulk.wait_group.read %0;" ::"n"(N) : "memory");
}
// prefetch.tensormap
TL_DEVICE void tma_prefetch_descriptor(const TmaDescriptor* desc) {
  asm volatile("prefetch.tensormap [%0];" ::"l"(desc) : "memory");
}
// Plain bulk copies (no descriptor); bytes a multiple of 16, addresses 16-byte aligned.
// cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes
TL_DEVICE void bulk_load(void* smem_dst, const void* gmem_src, uint32_t bytes, uint64_t* bar) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                   smem_ptr(smem_dst)),
               "l"(gmem_src), "r"(bytes), "r"(smem_ptr(bar))
               : "memory");
}
// cp.async.bulk.global.shared::cta.bulk_group (commit and wait like a TMA store)
TL_DEVICE void bulk_store(void* gmem_dst, const void* smem_src, uint32_t bytes) {
  asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(gmem_dst), "r"(smem_ptr(smem_src)),
               "r"(bytes)
               : "memory");
}
#endif  // TL_SM90

// ---------------------------------------------------------------------------------------------
// wgmma (sm_90a): warpgroup MMA m64nNk16, f16/bf16 in, f32 accumulate.

#if defined(TL_SM90A)
// wgmma.fence.sync.aligned: before the first wgmma, and after registers it reads were written.
TL_DEVICE void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
// wgmma.commit_group.sync.aligned
TL_DEVICE void wgmma_commit_group() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
// wgmma.wait_group.sync.aligned N: at most N groups still in flight.
template <int N> TL_DEVICE void wgmma_wait_group() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}
// Keep the compiler from moving accesses of accumulator registers across wgmma_wait_group.
template <int Count> TL_DEVICE void wgmma_fence_operands(float* d) {
#pragma unroll
  for (int i = 0; i < Count; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// Shared-memory matrix descriptor. Bits [0,14) start address >> 4, [16,30) leading byte
// offset >> 4, [32,46) stride byte offset >> 4, [62,64) swizzle: 0 none, 1 128B, 2 64B, 3 32B.
// Advance a descriptor by b bytes (16-byte multiple) with desc + (b >> 4).
TL_DEVICE uint64_t make_smem_desc(const void* smem, int swizzle, uint32_t leading_byte_offset,
                                  uint32_t stride_byte_offset) {
  uint64_t desc = (smem_ptr(smem) & 0x3FFFFu) >> 4;
  desc |= uint64_t((leading_byte_offset & 0x3FFFFu) >> 4) << 16;
  desc |= uint64_t((stride_byte_offset & 0x3FFFFu) >> 4) << 32;
  desc |= uint64_t(swizzle & 3) << 62;
  return desc;
}

// setmaxnreg.inc/dec.sync.aligned.u32: move registers between warpgroups (needs a register
// cap at kernel entry, e.g. __launch_bounds__(threads, 1)).
template <int N> TL_DEVICE void setmaxnreg_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(N)); }
template <int N> TL_DEVICE void setmaxnreg_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(N)); }

// Operand lists for N/2 accumulator registers, built 4 at a time: TL_WG_S<k> is the string
// "%0, ..., %<k-1>", TL_WG_R<k>(d) the matching "+f"(d[i]) constraints.
#define TL_WG_S4 "%0, %1, %2, %3"
#define TL_WG_S8 TL_WG_S4 ", %4, %5, %6, %7"
#define TL_WG_S12 TL_WG_S8 ", %8, %9, %10, %11"
#define TL_WG_S16 TL_WG_S12 ", %12, %13, %14, %15"
#define TL_WG_S20 TL_WG_S16 ", %16, %17, %18, %19"
#define TL_WG_S24 TL_WG_S20 ", %20, %21, %22, %23"
#define TL_WG_S28 TL_WG_S24 ", %24, %25, %26, %27"
#define TL_WG_S32 TL_WG_S28 ", %28, %29, %30, %31"
#define TL_WG_S36 TL_WG_S32 ", %32, %33, %34, %35"
#define TL_WG_S40 TL_WG_S36 ", %36, %37, %38, %39"
#define TL_WG_S44 TL_WG_S40 ", %40, %41, %42, %43"
#define TL_WG_S48 TL_WG_S44 ", %44, %45, %46, %47"
#define TL_WG_S52 TL_WG_S48 ", %48, %49, %50, %51"
#define TL_WG_S56 TL_WG_S52 ", %52, %53, %54, %55"
#define TL_WG_S60 TL_WG_S56 ", %56, %57, %58, %59"
#define TL_WG_S64 TL_WG_S60 ", %60, %61, %62, %63"
#define TL_WG_S68 TL_WG_S64 ", %64, %65, %66, %67"
#define TL_WG_S72 TL_WG_S68 ", %68, %69, %70, %71"
#define TL_WG_S76 TL_WG_S72 ", %72, %73, %74, %75"
#define TL_WG_S80 TL_WG_S76 ", %76, %77, %78, %79"
#define TL_WG_S84 TL_WG_S80 ", %80, %81, %82, %83"
#define TL_WG_S88 TL_WG_S84 ", %84, %85, %86, %87"
#define TL_WG_S92 TL_WG_S88 ", %88, %89, %90, %91"
#define TL_WG_S96 TL_WG_S92 ", %92, %93, %94, %95"
#define TL_WG_S100 TL_WG_S96 ", %96, %97, %98, %99"
#define TL_WG_S104 TL_WG_S100 ", %100, %101, %102, %103"
#define TL_WG_S108 TL_WG_S104 ", %104, %105, %106, %107"
#define TL_WG_S112 TL_WG_S108 ", %108, %109, %110, %111"
#define TL_WG_S116 TL_WG_S112 ", %112, %113, %114, %115"
#define TL_WG_S120 TL_WG_S116 ", %116, %117, %118, %119"
#define TL_WG_S124 TL_WG_S120 ", %120, %121, %122, %123"
#define TL_WG_S128 TL_WG_S124 ", %124, %125, %126, %127"

#define TL_WG_F4(d, i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3])
#define TL_WG_R4(d) TL_WG_F4(d, 0)
#define TL_WG_R8(d) TL_WG_R4(d), TL_WG_F4(d, 4)
#define TL_WG_R12(d) TL_WG_R8(d), TL_WG_F4(d, 8)
#define TL_WG_R16(d) TL_WG_R12(d), TL_WG_F4(d, 12)
#define TL_WG_R20(d) TL_WG_R16(d), TL_WG_F4(d, 16)
#define TL_WG_R24(d) TL_WG_R20(d), TL_WG_F4(d, 20)
#define TL_WG_R28(d) TL_WG_R24(d), TL_WG_F4(d, 24)
#define TL_WG_R32(d) TL_WG_R28(d), TL_WG_F4(d, 28)
#define TL_WG_R36(d) TL_WG_R32(d), TL_WG_F4(d, 32)
#define TL_WG_R40(d) TL_WG_R36(d), TL_WG_F4(d, 36)
#define TL_WG_R44(d) TL_WG_R40(d), TL_WG_F4(d, 40)
#define TL_WG_R48(d) TL_WG_R44(d), TL_WG_F4(d, 44)
#define TL_WG_R52(d) TL_WG_R48(d), TL_WG_F4(d, 48)
#define TL_WG_R56(d) TL_WG_R52(d), TL_WG_F4(d, 52)
#define TL_WG_R60(d) TL_WG_R56(d), TL_WG_F4(d, 56)
#define TL_WG_R64(d) TL_WG_R60(d), TL_WG_F4(d, 60)
#define TL_WG_R68(d) TL_WG_R64(d), TL_WG_F4(d, 64)
#define TL_WG_R72(d) TL_WG_R68(d), TL_WG_F4(d, 68)
#define TL_WG_R76(d) TL_WG_R72(d), TL_WG_F4(d, 72)
#define TL_WG_R80(d) TL_WG_R76(d), TL_WG_F4(d, 76)
#define TL_WG_R84(d) TL_WG_R80(d), TL_WG_F4(d, 80)
#define TL_WG_R88(d) TL_WG_R84(d), TL_WG_F4(d, 84)
#define TL_WG_R92(d) TL_WG_R88(d), TL_WG_F4(d, 88)
#define TL_WG_R96(d) TL_WG_R92(d), TL_WG_F4(d, 92)
#define TL_WG_R100(d) TL_WG_R96(d), TL_WG_F4(d, 96)
#define TL_WG_R104(d) TL_WG_R100(d), TL_WG_F4(d, 100)
#define TL_WG_R108(d) TL_WG_R104(d), TL_WG_F4(d, 104)
#define TL_WG_R112(d) TL_WG_R108(d), TL_WG_F4(d, 108)
#define TL_WG_R116(d) TL_WG_R112(d), TL_WG_F4(d, 112)
#define TL_WG_R120(d) TL_WG_R116(d), TL_WG_F4(d, 116)
#define TL_WG_R124(d) TL_WG_R120(d), TL_WG_F4(d, 120)
#define TL_WG_R128(d) TL_WG_R124(d), TL_WG_F4(d, 124)

#define TL_STR_(x) #x
#define TL_STR(x) TL_STR_(x)

namespace detail {
template <typename AB, int N> struct Wgmma;

// One specialization per (input type, N). K = N/2 accumulator registers come first in the
// operand list; P0..P6 are the operand numbers that follow them (K, K+1, ...).
// SS: wgmma.mma_async.sync.aligned.m64nNk16.f32.T.T d, desc-a, desc-b, scale-d, 1, 1, trans-a, trans-b
// RS: wgmma.mma_async.sync.aligned.m64nNk16.f32.T.T d, {a0..a3}, desc-b, scale-d, 1, 1, trans-b
#define TL_WGMMA_DEFINE(AB, T, N, K, P0, P1, P2, P3, P4, P5, P6)                                               \
  template <> struct Wgmma<AB, N> {                                                                           \
    template <int TransA, int TransB>                                                                         \
    TL_DEVICE static void ss(float* d, uint64_t desc_a, uint64_t desc_b, int scale_d) {                       \
      asm volatile("{\n .reg .pred p;\n setp.ne.b32 p, %" TL_STR(P2) ", 0;\n"                                 \
                   " wgmma.mma_async.sync.aligned.m64n" TL_STR(N) "k16.f32." T "." T " {" TL_WG_S##K "}, %"    \
                   TL_STR(P0) ", %" TL_STR(P1) ", p, 1, 1, %" TL_STR(P3) ", %" TL_STR(P4) ";\n}"              \
                   : TL_WG_R##K(d)                                                                            \
                   : "l"(desc_a), "l"(desc_b), "r"(scale_d), "n"(TransA), "n"(TransB));                       \
    }                                                                                                         \
    template <int TransB>                                                                                     \
    TL_DEVICE static void rs(float* d, const uint32_t* a, uint64_t desc_b, int scale_d) {                     \
      asm volatile("{\n .reg .pred p;\n setp.ne.b32 p, %" TL_STR(P5) ", 0;\n"                                 \
                   " wgmma.mma_async.sync.aligned.m64n" TL_STR(N) "k16.f32." T "." T " {" TL_WG_S##K "}, {%"   \
                   TL_STR(P0) ", %" TL_STR(P1) ", %" TL_STR(P2) ", %" TL_STR(P3) "}, %" TL_STR(P4)            \
                   ", p, 1, 1, %" TL_STR(P6) ";\n}"                                                           \
                   : TL_WG_R##K(d)                                                                            \
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d), "n"(TransB));     \
    }                                                                                                         \
  };

// (N, K = N/2, then K .. K+6)
#define TL_WGMMA_SHAPES(X, AB, T)                    \
  X(AB, T, 8, 4, 4, 5, 6, 7, 8, 9, 10)                \
  X(AB, T, 16, 8, 8, 9, 10, 11, 12, 13, 14)           \
  X(AB, T, 24, 12, 12, 13, 14, 15, 16, 17, 18)        \
  X(AB, T, 32, 16, 16, 17, 18, 19, 20, 21, 22)        \
  X(AB, T, 40, 20, 20, 21, 22, 23, 24, 25, 26)        \
  X(AB, T, 48, 24, 24, 25, 26, 27, 28, 29, 30)        \
  X(AB, T, 56, 28, 28, 29, 30, 31, 32, 33, 34)        \
  X(AB, T, 64, 32, 32, 33, 34, 35, 36, 37, 38)        \
  X(AB, T, 72, 36, 36, 37, 38, 39, 40, 41, 42)        \
  X(AB, T, 80, 40, 40, 41, 42, 43, 44, 45, 46)        \
  X(AB, T, 88, 44, 44, 45, 46, 47, 48, 49, 50)        \
  X(AB, T, 96, 48, 48, 49, 50, 51, 52, 53, 54)        \
  X(AB, T, 104, 52, 52, 53, 54, 55, 56, 57, 58)       \
  X(AB, T, 112, 56, 56, 57, 58, 59, 60, 61, 62)       \
  X(AB, T, 120, 60, 60, 61, 62, 63, 64, 65, 66)       \
  X(AB, T, 128, 64, 64, 65, 66, 67, 68, 69, 70)       \
  X(AB, T, 136, 68, 68, 69, 70, 71, 72, 73, 74)       \
  X(AB, T, 144, 72, 72, 73, 74, 75, 76, 77, 78)       \
  X(AB, T, 152, 76, 76, 77, 78, 79, 80, 81, 82)       \
  X(AB, T, 160, 80, 80, 81, 82, 83, 84, 85, 86)       \
  X(AB, T, 168, 84, 84, 85, 86, 87, 88, 89, 90)       \
  X(AB, T, 176, 88, 88, 89, 90, 91, 92, 93, 94)       \
  X(AB, T, 184, 92, 92, 93, 94, 95, 96, 97, 98)       \
  X(AB, T, 192, 96, 96, 97, 98, 99, 100, 101, 102)    \
  X(AB, T, 200, 100, 100, 101, 102, 103, 104, 105, 106) \
  X(AB, T, 208, 104, 104, 105, 106, 107, 108, 109, 110) \
  X(AB, T, 216, 108, 108, 109, 110, 111, 112, 113, 114) \
  X(AB, T, 224, 112, 112, 113, 114, 115, 116, 117, 118) \
  X(AB, T, 232, 116, 116, 117, 118, 119, 120, 121, 122) \
  X(AB, T, 240, 120, 120, 121, 122, 123, 124, 125, 126) \
  X(AB, T, 248, 124, 124, 125, 126, 127, 128, 129, 130) \
  X(AB, T, 256, 128, 128, 129, 130, 131, 132, 133, 134)

TL_WGMMA_SHAPES(TL_WGMMA_DEFINE, half_t, "f16")
TL_WGMMA_SHAPES(TL_WGMMA_DEFINE, bfloat16_t, "bf16")
}  // namespace detail

// D(64xN, float[N/2] per thread) (+)= A(64x16) * B(16xN); AB is half_t or bfloat16_t.
// A and B from shared memory (descriptors). TransA = 0: A is K-major (row-major 64x16);
// TransB = 0: B is K-major (stored N x 16). scale_d = 0 overwrites D, 1 accumulates.
template <typename AB, int N, int TransA = 0, int TransB = 0>
TL_DEVICE void wgmma_m64nNk16_ss(float* d, uint64_t desc_a, uint64_t desc_b, int scale_d) {
  detail::Wgmma<AB, N>::template ss<TransA, TransB>(d, desc_a, desc_b, scale_d);
}
// As above with A from registers: 4 words per thread in the m64k16 A-fragment layout.
template <typename AB, int N, int TransB = 0>
TL_DEVICE void wgmma_m64nNk16_rs(float* d, const void* a, uint64_t desc_b, int scale_d) {
  detail::Wgmma<AB, N>::template rs<TransB>(d, static_cast<const uint32_t*>(a), desc_b, scale_d);
}
#endif  // TL_SM90A

// ---------------------------------------------------------------------------------------------
// Debugging: print a value with the calling block and thread, and a device-side assert.

#define TL_WHERE_FMT "block (%d, %d, %d) thread (%d, %d, %d)"
#define TL_WHERE_ARGS \
  (int)blockIdx.x, (int)blockIdx.y, (int)blockIdx.z, (int)threadIdx.x, (int)threadIdx.y, (int)threadIdx.z

TL_DEVICE void print(const char* msg, int v) { printf("%s: " TL_WHERE_FMT ": %d\n", msg, TL_WHERE_ARGS, v); }
TL_DEVICE void print(const char* msg, unsigned v) { printf("%s: " TL_WHERE_FMT ": %u\n", msg, TL_WHERE_ARGS, v); }
TL_DEVICE void print(const char* msg, long v) { printf("%s: " TL_WHERE_FMT ": %ld\n", msg, TL_WHERE_ARGS, v); }
TL_DEVICE void print(const char* msg, unsigned long v) { printf("%s: " TL_WHERE_FMT ": %lu\n", msg, TL_WHERE_ARGS, v); }
TL_DEVICE void print(const char* msg, long long v) { printf("%s: " TL_WHERE_FMT ": %lld\n", msg, TL_WHERE_ARGS, v); }
TL_DEVICE void print(const char* msg, bool v) {
  printf("%s: " TL_WHERE_FMT ": %s\n", msg, TL_WHERE_ARGS, v ? "true" : "false");
}
TL_DEVICE void print(const char* msg, double v) { printf("%s: " TL_WHERE_FMT ": %g\n", msg, TL_WHERE_ARGS, v); }
TL_DEVICE void print(const char* msg, float v) { print(msg, double(v)); }
TL_DEVICE void print(const char* msg, half_t v) { print(msg, double(float(v))); }
TL_DEVICE void print(const char* msg, bfloat16_t v) { print(msg, double(float(v))); }
TL_DEVICE void print(const char* msg, const void* p) { printf("%s: " TL_WHERE_FMT ": %p\n", msg, TL_WHERE_ARGS, p); }

TL_DEVICE void device_assert(bool cond, const char* msg) {
  if (!cond) {
    printf("device assertion failed: %s: " TL_WHERE_FMT "\n", msg, TL_WHERE_ARGS);
    __trap();
  }
}

}  // namespace tl
