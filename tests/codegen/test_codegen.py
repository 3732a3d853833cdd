"""Generated CUDA text: signature, names, source comments, types, intrinsics, vector accesses."""
import os

import pytest

import tilelang
import tilelang.language as T
from tilelang.backend.cuda import lower_to_source
from tilelang.backend.cuda import toolchain
from tilelang.target import Target

HAVE_COMPILER = toolchain.nvrtc_version() is not None or toolchain.nvcc_path() is not None


def source(func, arch="sm_80"):
    src, sig, lowered, ctx = lower_to_source(func, Target("cuda", arch))
    return src, sig


@T.prim_func
def tiles(A: T.Tensor((128, 64), "float16"), B: T.Tensor((128, 64), "float32")):
    with T.Kernel(2, threads=128) as bx:
        A_shared = T.alloc_shared((64, 64), "float16")
        acc = T.alloc_fragment((64, 64), "float32")
        T.copy(A[bx * 64, 0], A_shared)
        T.copy(A_shared, acc)
        for i, j in T.Parallel(64, 64):
            acc[i, j] = T.exp2(acc[i, j]) * T.rsqrt(acc[i, j] + 1.0)
        T.copy(acc, B[bx * 64, 0])


def test_signature_names_and_launch_bounds():
    src, sig = source(tiles)
    assert 'extern "C" __global__ void __launch_bounds__(128) tiles_kernel(' in src
    assert "half_t* __restrict__ A, float* __restrict__ B)" in src
    assert "half_t* A_shared = reinterpret_cast<half_t*>(tl_smem + 0);" in src
    assert "float acc[32];" in src  # 64x64 over 128 threads
    assert [p[:2] for p in sig.params] == [("A", "ptr"), ("B", "ptr")]


def test_comments_point_at_the_user_lines():
    src, _ = source(tiles)
    here = os.path.abspath(__file__)
    lines = src.splitlines()
    marks = [ln.strip() for ln in lines if ln.strip().startswith("// tilelang:")]
    assert any(m.startswith(f"// tilelang: {here}:") and m.endswith("T.copy(A[bx * 64, 0], A_shared)") for m in marks)
    assert any(m.endswith("acc[i, j] = T.exp2(acc[i, j]) * T.rsqrt(acc[i, j] + 1.0)") for m in marks)
    # each mark sits right above code, never twice in a row for one line
    assert all(a != b for a, b in zip(marks, marks[1:]))


def test_vector_accesses_and_math():
    src, _ = source(tiles)
    assert "*reinterpret_cast<uint4*>(&A_shared[" in src  # 16-byte global -> shared
    assert "exp2f(" in src and "rsqrtf(" in src
    assert "reinterpret_cast<const uint4*>(&B" not in src  # B is stored from registers


@T.prim_func
def half_math(X: T.Tensor((128,), "float16"), Y: T.Tensor((128,), "bfloat16"), Z: T.Tensor((128,), "int8")):
    with T.Kernel(1, threads=128) as bx:
        for i in T.Parallel(128):
            Y[i] = T.cast(T.exp(X[i]) + T.max(X[i], T.float16(0)), "bfloat16")
            Z[i] = T.cast(T.min(T.cast(X[i], "int32"), 127), "int8")


def test_half_types_and_casts():
    src, _ = source(half_math)
    assert "half_t* __restrict__ X, bfloat16_t* __restrict__ Y, int8_t* __restrict__ Z" in src
    assert "half_t(expf(float(X[" in src
    assert "tl::max<half_t>(" in src and "tl::min<int>(" in src
    assert "((bfloat16_t)(" in src and "((int8_t)(" in src


def test_dynamic_sizes_become_int_parameters():
    m = T.dynamic("m")

    @T.prim_func
    def add(A: T.Tensor((m, 64), "float32"), C: T.Tensor((m, 64), "float32")):
        with T.Kernel(T.ceildiv(m, 32), threads=128) as bx:
            a = T.alloc_fragment((32, 64), "float32")
            T.copy(A[bx * 32, 0], a)
            T.copy(a, C[bx * 32, 0])

    src, sig = source(add)
    assert "float* __restrict__ C, int m)" in src
    assert "< m" in src  # the tail rows are guarded
    assert sig.params[-1][:2] == ("m", "i32")


def test_barriers_and_shared_arena():
    @T.prim_func
    def handoff(X: T.Tensor((256,), "float32"), Y: T.Tensor((256,), "float32")):
        with T.Kernel(1, threads=256) as bx:
            tx = T.get_thread_binding()
            S = T.alloc_shared((128,), "float32")
            ready = T.alloc_barrier(128)
            if tx < 128:
                S[tx] = X[tx]
                T.mbarrier_arrive(ready)
            else:
                T.mbarrier_wait_parity(ready, 0)
                Y[tx - 128] = S[tx - 128]

    src, _ = source(handoff)
    assert "uint64_t* ready = reinterpret_cast<uint64_t*>(tl_smem + " in src
    assert "tl::mbar_init((&ready[0]), 128);" in src
    assert "tl::mbar_arrive((&ready[0]));" in src and "tl::mbar_wait((&ready[0]), 0);" in src
    # the hand-off is ordered by the barrier, not by a __syncthreads inside the branches
    assert src.count("__syncthreads();") == 1


@pytest.mark.skipif(not HAVE_COMPILER, reason="no CUDA compiler")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90a"])
def test_compile_without_a_gpu(arch, monkeypatch):
    monkeypatch.setenv("TILELANG_DISABLE_CACHE", "1")
    kernel = tilelang.compile(tiles, out_idx=[1], target=f"cuda -arch={arch}")
    src = kernel.get_kernel_source()
    assert "tiles_kernel" in src
    report = kernel.artifact().layout_report()
    assert "A_shared" in report and "acc" in report


@T.prim_func
def floor_ops(Y: T.Tensor((8,), "int32"), Z: T.Tensor((8,), "int32")):
    with T.Kernel(1, threads=8) as bx:
        tx = T.get_thread_binding()
        for i in T.serial(-4, 4):
            if i + 4 == tx:
                Y[tx] = i // 3
                Z[tx] = i % 3
        for j in T.serial(8):
            if j == tx:
                Y[tx] = Y[tx] + j // 2 + j % 2


def test_integer_division_floors_unless_operands_are_provably_nonnegative():
    src, _ = source(floor_ops)
    assert "tl_floordiv<int>(i, 3)" in src and "tl_floormod<int>(i, 3)" in src
    assert "j / 2" in src and "j % 2" in src  # j >= 0: plain C++ division


def test_a_branch_bound_makes_a_shifted_thread_index_nonnegative():
    src, _ = source(barriers_ws())
    assert "tl_floordiv" not in src


def barriers_ws():
    @T.prim_func
    def ws_copy(A: T.Tensor((256,), "float32"), B: T.Tensor((256,), "float32")):
        with T.Kernel(1, threads=256) as bx:
            S_ = T.alloc_shared((256,), "float32")
            with T.ws(1):
                T.copy(A, S_)
            with T.ws(0):
                T.copy(S_, B)

    return ws_copy
