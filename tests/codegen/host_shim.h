// host_shim.h: runs the CUDA C++ our codegen prints on the CPU, for tests on machines without a
// GPU. Every CUDA thread of a block is a std::thread; blocks run one after another and share one
// shared-memory arena. It stands in for tl.cuh: only what non-GEMM kernels use (types, math,
// barriers, warp shuffles, atomics, mbarriers, cp.async as plain copies).
#pragma once
#include <barrier>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__
#define __align__(n) __attribute__((aligned(n)))
#define __grid_constant__

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 gridDim, blockDim;
alignas(1024) uint8_t tl_smem[1 << 18];

struct alignas(8) uint2 {
  unsigned x, y;
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float exp10f(float x) { return std::pow(10.0f, x); }
inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}

namespace tl {

struct half_t {
  _Float16 v;
  half_t() = default;
  half_t(float f) : v(static_cast<_Float16>(f)) {}
  operator float() const { return static_cast<float>(v); }
};

struct bfloat16_t {
  uint16_t bits;
  bfloat16_t() = default;
  bfloat16_t(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);  // round to nearest even
    bits = static_cast<uint16_t>(u >> 16);
  }
  operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

template <typename T> inline T max(T a, T b) { return a > b ? a : b; }
template <typename T> inline T min(T a, T b) { return a < b ? a : b; }
template <typename T> inline T infinity() { return T(INFINITY); }
inline float fast_exp2(float x) { return std::exp2(x); }
inline float fast_exp(float x) { return std::exp(x); }
inline float fast_log(float x) { return std::log(x); }
inline float fast_log2(float x) { return std::log2(x); }
inline float fast_rsqrt(float x) { return 1.0f / std::sqrt(x); }
inline float fast_tanh(float x) { return std::tanh(x); }
inline float fast_sin(float x) { return std::sin(x); }
inline float fast_cos(float x) { return std::cos(x); }

// -- the block being run ------------------------------------------------------------------------
struct BlockState {
  std::unique_ptr<std::barrier<>> block;
  std::vector<std::unique_ptr<std::barrier<>>> warps;
  std::vector<uint64_t> lanes;  // shuffle exchange, one slot per thread
  std::mutex named_lock;
  std::map<int, std::unique_ptr<std::barrier<>>> named;
};
inline BlockState* block_state = nullptr;
inline std::mutex atomic_lock;

inline int linear_thread() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
inline void syncthreads() { block_state->block->arrive_and_wait(); }

template <typename T> inline T shfl_xor(T v, int lane_mask, int width = 32) {
  int t = linear_thread(), lane = t % 32, warp = t / 32;
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  block_state->lanes[t] = bits;
  block_state->warps[warp]->arrive_and_wait();
  int src = (lane ^ lane_mask) % width + (lane / width) * width;
  uint64_t got = block_state->lanes[warp * 32 + src];
  block_state->warps[warp]->arrive_and_wait();
  T out;
  std::memcpy(&out, &got, sizeof(T));
  return out;
}

inline void named_barrier_sync(int id, int count) {
  std::barrier<>* b;
  {
    std::lock_guard<std::mutex> g(block_state->named_lock);
    auto& slot = block_state->named[id];
    if (!slot) slot = std::make_unique<std::barrier<>>(count);
    b = slot.get();
  }
  b->arrive_and_wait();
}

template <typename T> inline T atomic_add(T* p, T v) {
  std::lock_guard<std::mutex> g(atomic_lock);
  T old = *p;
  *p = T(float(old) + float(v));
  return old;
}
template <typename T> inline T atomic_max(T* p, T v) {
  std::lock_guard<std::mutex> g(atomic_lock);
  T old = *p;
  if (v > old) *p = v;
  return old;
}
template <typename T> inline T atomic_min(T* p, T v) {
  std::lock_guard<std::mutex> g(atomic_lock);
  T old = *p;
  if (v < old) *p = v;
  return old;
}

// -- mbarriers: arrival counts and phases, waited on with a condition variable ------------------
struct MBarrier {
  int count = 0, pending = 0, phase = 0;
};
inline std::mutex mbar_lock;
inline std::condition_variable mbar_cv;
inline std::map<uint64_t*, MBarrier> mbars;

inline void mbar_init(uint64_t* bar, int count) {
  std::lock_guard<std::mutex> g(mbar_lock);
  mbars[bar] = MBarrier{count, count, 0};
}
inline void mbar_arrive(uint64_t* bar) {
  std::lock_guard<std::mutex> g(mbar_lock);
  MBarrier& b = mbars[bar];
  if (--b.pending == 0) {
    b.phase += 1;
    b.pending = b.count;
    mbar_cv.notify_all();
  }
}
inline void mbar_wait(uint64_t* bar, int parity) {
  std::unique_lock<std::mutex> g(mbar_lock);
  mbar_cv.wait(g, [&] { return (mbars[bar].phase & 1) != parity; });
}
inline void mbar_expect_tx(uint64_t*, uint32_t) {}
inline void fence_mbarrier_init() {}
inline void fence_proxy_async() {}

// -- cp.async: a copy lands when issued, or with TL_HOST_LATE_ASYNC_COPIES at the latest moment
// the hardware allows, the cp_async_wait that covers its group (tests run both: the first shows a
// slot overwritten while still read, the second a slot read before its wait).
struct PendingCopy {
  void* dst;
  const void* src;
  int bytes;
  bool valid;
};
inline thread_local std::vector<std::vector<PendingCopy>> async_groups(1);
inline void cp_async(void* d, const void* s, int bytes, bool ok) {
#ifdef TL_HOST_LATE_ASYNC_COPIES
  async_groups.back().push_back(PendingCopy{d, s, bytes, ok});
#else
  ok ? (void)std::memcpy(d, s, bytes) : (void)std::memset(d, 0, bytes);
#endif
}
inline void cp_async_4(void* d, const void* s) { cp_async(d, s, 4, true); }
inline void cp_async_8(void* d, const void* s) { cp_async(d, s, 8, true); }
inline void cp_async_16(void* d, const void* s) { cp_async(d, s, 16, true); }
inline void cp_async_4_zfill(void* d, const void* s, bool ok) { cp_async(d, s, 4, ok); }
inline void cp_async_8_zfill(void* d, const void* s, bool ok) { cp_async(d, s, 8, ok); }
inline void cp_async_16_zfill(void* d, const void* s, bool ok) { cp_async(d, s, 16, ok); }
inline void cp_async_commit() { async_groups.emplace_back(); }
template <int N> inline void cp_async_wait() {
  // async_groups: the committed groups, oldest first, then the open one
  while (int(async_groups.size()) - 1 > N) {
    for (const PendingCopy& c : async_groups.front())
      c.valid ? (void)std::memcpy(c.dst, c.src, c.bytes) : (void)std::memset(c.dst, 0, c.bytes);
    async_groups.erase(async_groups.begin());
  }
}

inline void device_assert(bool cond, const char* msg) {
  if (!cond) {
    std::fprintf(stderr, "device assertion failed: %s\n", msg);
    std::abort();
  }
}

// Runs `kernel` (a callable with no arguments) over the grid: blocks in order, threads in parallel.
template <typename F> void launch(F kernel, dim3 grid, dim3 block) {
  gridDim = grid;
  blockDim = block;
  int n = block.x * block.y * block.z;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        BlockState state;
        state.block = std::make_unique<std::barrier<>>(n);
        for (int w = 0; w * 32 < n; ++w) state.warps.push_back(std::make_unique<std::barrier<>>(std::min(32, n - w * 32)));
        state.lanes.assign(n, 0);
        block_state = &state;
        mbars.clear();
        std::vector<std::thread> threads;
        for (int t = 0; t < n; ++t)
          threads.emplace_back([=] {
            threadIdx = dim3{unsigned(t % block.x), unsigned((t / block.x) % block.y), unsigned(t / (block.x * block.y))};
            blockIdx = dim3{bx, by, bz};
            kernel();
          });
        for (auto& th : threads) th.join();
        block_state = nullptr;
      }
}

template <int Rows, int Cols, int Swizzle> struct SmemLayout {};  // the host GEMM reads offset tables

// -- TMA: a host "tensor map" (see host_cuda.py): [0] pointer, [1] rank | elem bytes << 8 |
// swizzle bytes << 16, [2..6] dims, [7..10] strides of dims 1..4 (elements), [11..15] box; innermost
// first. The copy is synchronous; out-of-bounds elements read zero; 128B swizzle as the hardware.
struct alignas(64) TmaDescriptor {
  uint64_t opaque[16];
};
inline void tma_load(void* dst, const TmaDescriptor* d, const int* c) {
  const uint64_t* o = d->opaque;
  int rank = o[1] & 0xff, eb = (o[1] >> 8) & 0xff, sw = (o[1] >> 16) & 0xff;
  long total = 1;
  for (int i = 0; i < rank; ++i) total *= long(o[11 + i]);
  for (long lin = 0; lin < total; ++lin) {
    long rest = lin, src = 0;
    bool inside = true;
    for (int i = 0; i < rank; ++i) {
      long box = long(o[11 + i]), idx = rest % box, g = c[i] + idx;
      rest /= box;
      if (g < 0 || g >= long(o[2 + i])) inside = false;
      src += g * (i == 0 ? 1 : long(o[6 + i]));
    }
    long off = lin * eb;
    if (sw == 128) off ^= ((off >> 7) & 7) << 4;
    uint8_t* out = static_cast<uint8_t*>(dst) + off;
    if (inside)
      std::memcpy(out, reinterpret_cast<const uint8_t*>(o[0]) + src * eb, eb);
    else
      std::memset(out, 0, eb);
  }
}
inline void tma_load_1d(void* s, const TmaDescriptor* d, uint64_t*, int c0) { int c[] = {c0}; tma_load(s, d, c); }
inline void tma_load_2d(void* s, const TmaDescriptor* d, uint64_t*, int c0, int c1) { int c[] = {c0, c1}; tma_load(s, d, c); }
inline void tma_load_3d(void* s, const TmaDescriptor* d, uint64_t*, int c0, int c1, int c2) {
  int c[] = {c0, c1, c2};
  tma_load(s, d, c);
}
inline void tma_load_4d(void* s, const TmaDescriptor* d, uint64_t*, int c0, int c1, int c2, int c3) {
  int c[] = {c0, c1, c2, c3};
  tma_load(s, d, c);
}

}  // namespace tl

// -- T.gemm on the host: offset tables generated per kernel (GemmMaps<ID>, see host_cuda.py) ------
namespace tl_host {
template <int ID> struct GemmMaps;

// C (+)= a[:, k0:k1] @ b[k0:k1, :] for the calling thread's accumulator registers; a is (M, K)
// and b (K, N), row-major float values.
template <int ID, int N, int K, typename TC>
void gemm_host(const float* a, const float* b, TC* C, int thread, bool clear, int k0 = 0, int k1 = K) {
  using G = GemmMaps<ID>;
  for (int r = 0; r < G::c_regs; ++r) {
    int ij = G::c_map[thread * G::c_regs + r];
    if (ij < 0) continue;
    int i = ij / N, j = ij % N;
    double acc = clear ? 0.0 : double(C[r]);
    for (int k = k0; k < k1; ++k) acc += double(a[i * K + k]) * double(b[k * N + j]);
    C[r] = TC(acc);
  }
}

template <int ID, int M, int K, typename TA>
std::vector<float> a_values(TA* A) {
  std::vector<float> a(M * K);
  for (int x = 0; x < M * K; ++x) a[x] = float(A[GemmMaps<ID>::a_off[x]]);
  return a;
}

template <int ID, int N, int K, typename TB>
std::vector<float> b_values(TB* B) {
  std::vector<float> b(K * N);
  for (int x = 0; x < K * N; ++x) b[x] = float(B[GemmMaps<ID>::b_off[x]]);
  return b;
}

template <int ID, int M, int N, int K, bool Clear, typename TA, typename TB, typename TC>
void gemm_ss(TA* A, TB* B, TC* C, int thread) {
  gemm_host<ID, N, K>(a_values<ID, M, K>(A).data(), b_values<ID, N, K>(B).data(), C, thread, Clear);
}

// The three parts of an mma.sync gemm_ss (tl_gemm.cuh). A fragment set in registers is modelled
// as the operand tiles read from shared memory at the moment the GPU reads them, held per thread
// under the registers' address, so a schedule that reads a stage too early (see cp_async_wait) or
// overwrites it too soon, or clobbers registers still in use, computes a wrong C.
struct HeldSet {
  std::vector<float> a, b;
  int thread;
};
inline thread_local std::map<const unsigned*, HeldSet> held_sets;

template <int ID, int M, int N, int K, bool Clear, typename TA, typename TB>
void gemm_ss_load_step0(TA* A, TB* B, unsigned* step0, int thread) {
  held_sets[step0] = HeldSet{a_values<ID, M, K>(A), b_values<ID, N, K>(B), thread};
}

template <int ID, int M, int N, int K, bool Clear, typename TA, typename TB, typename TC>
void gemm_ss_steps(TA* A, TB* B, TC* C, const unsigned* step0, unsigned* work, int thread) {
  using G = GemmMaps<ID>;
  constexpr int KK = G::mma_k;
  HeldSet now{a_values<ID, M, K>(A), b_values<ID, N, K>(B), thread};
  const HeldSet& first = held_sets.at(step0);  // k-step 0 comes from the registers step0
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < KK; ++k) now.a[i * K + k] = first.a[i * K + k];
  for (int k = 0; k < KK; ++k)
    for (int j = 0; j < N; ++j) now.b[k * N + j] = first.b[k * N + j];
  gemm_host<ID, N, K>(now.a.data(), now.b.data(), C, thread, Clear, 0, K - KK);
  if (K > KK) held_sets[work + (K / KK - 1) % 2 * G::step_words] = now;  // the last step's set
}

template <int ID, int M, int N, int K, typename TC>
void gemm_mma_last(TC* C, const unsigned* frags) {
  const HeldSet& last = held_sets.at(frags);
  gemm_host<ID, N, K>(last.a.data(), last.b.data(), C, last.thread, false, K - GemmMaps<ID>::mma_k, K);
}

template <int ID, int M, int N, int K, bool Clear, typename TA, typename TB, typename TC>
void gemm_rs(TA* A, TB* B, TC* C, int thread) {
  using G = GemmMaps<ID>;
  static float exchange[M * K];  // the A fragment, gathered from the registers of the group's threads
  for (int r = 0; r < G::a_regs; ++r) {
    int ik = G::a_frag[thread * G::a_regs + r];
    if (ik >= 0) exchange[ik] = float(A[r]);
  }
  tl::named_barrier_sync(1000 + ID, G::threads);
  gemm_host<ID, N, K>(exchange, b_values<ID, N, K>(B).data(), C, thread, Clear);
  tl::named_barrier_sync(1000 + ID, G::threads);
}
}  // namespace tl_host

inline void __syncthreads() { tl::syncthreads(); }
inline void __syncwarp() {}
