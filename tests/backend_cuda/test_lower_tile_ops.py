"""lower_tile_ops and the per-op lowerings, checked on the CUDA they produce."""
import re

import pytest

import tilelang.language as T
from tilelang.backend.cuda import lower_to_source
from tilelang.errors import CompileError
from tilelang.target import Target


def cuda(func, arch="sm_80", **configs):
    src, sig, lowered, ctx = lower_to_source(func, Target("cuda", arch), {"pass_configs": configs})
    return src


def body_lines(src):
    return [ln.strip() for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("//")]


def copy_kernel(M, N, bm, bn, dtype="float16"):
    @T.prim_func
    def copy_tiles(A: T.Tensor((M, N), dtype), B: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            S_ = T.alloc_shared((bm, bn), dtype)
            T.copy(A[by * bm, bx * bn], S_)
            T.copy(S_, B[by * bm, bx * bn])

    return copy_tiles


def test_copy_is_vectorized_and_unguarded_when_tiles_divide():
    src = cuda(copy_kernel(128, 128, 64, 64))
    assert src.count("reinterpret_cast<uint4*>") == 2
    assert "if (" not in src  # every bound is provable


def test_copy_guards_the_tail_and_zero_fills():
    src = cuda(copy_kernel(100, 72, 64, 64))
    assert "< 100" in src and "< 72" in src
    assert "half_t(0.0f)" in src  # out-of-bounds loads read zero


def test_copy_falls_back_to_scalars_when_rows_are_misaligned():
    src = cuda(copy_kernel(64, 66, 32, 32, "float32"))  # 66 floats: rows are not 16-byte aligned
    assert "uint4" not in src and "uint2" in src  # 8-byte aligned rows: pairs


def test_disable_vectorize():
    src = cuda(copy_kernel(128, 128, 64, 64), **{"tir.disable_vectorize": True})
    assert "reinterpret_cast<uint" not in src


@T.prim_func
def reduce_rows(X: T.Tensor((8, 256), "float32"), Y: T.Tensor((8,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_fragment((8, 256), "float32")
        s = T.alloc_fragment((8,), "float32")
        T.copy(X, x)
        T.reduce_sum(x, s, dim=1)
        T.copy(s, Y)


def test_reduce_uses_shuffles_then_shared_scratch_across_warps():
    src = cuda(reduce_rows)
    shuffles = sorted({int(m) for m in re.findall(r"tl::shfl_xor\([^,]+, (\d+)\)", src)})
    assert shuffles == [1, 2, 4, 8, 16]
    assert "s_scratch" in src  # 256 columns over 128 threads: the rows span warps
    assert src.count("__syncthreads();") >= 2


def test_in_thread_reduce_is_a_balanced_tree():
    src = cuda(reduce_max_keep)  # a row's 4 registers in each thread
    line = next(l for l in src.splitlines() if l.strip().startswith("m_red[0] ="))
    assert "m_red[0]" not in line.split("=", 1)[1] and line.count("x[") == 4
    depth = max(line[:i].count("(") - line[:i].count(")") for i in range(len(line)))
    assert depth == 2  # log2(4) nested maxima; a chain of 4 nests 3


@T.prim_func
def reduce_max_keep(X: T.Tensor((32, 32), "float32"), Y: T.Tensor((32,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_fragment((32, 32), "float32")
        m = T.alloc_fragment((32,), "float32")
        T.fill(m, 0.5)
        T.copy(X, x)
        T.reduce_max(x, m, dim=1, clear=False)
        T.copy(m, Y)


def test_reduce_clear_false_combines_with_the_old_value():
    src = cuda(reduce_max_keep)
    assert re.search(r"m\[0\] = tl::max<float>\(m\[0\], m_red\[0\]\);", src)
    assert "scratch" not in src  # a row of 32 lives inside one warp


@T.prim_func
def async_pipeline(A: T.Tensor((64, 256), "float16"), B: T.Tensor((64, 32), "float16")):
    with T.Kernel(1, threads=128) as bx:
        A_s = T.alloc_shared((64, 32), "float16")
        acc = T.alloc_fragment((64, 32), "float32")
        T.clear(acc)
        for k in T.Pipelined(8, num_stages=2):
            T.copy(A[0, k * 32], A_s)
            for i, j in T.Parallel(64, 32):
                acc[i, j] += A_s[i, j]
        T.copy(acc, B)


def test_pipelined_copies_become_cp_async():
    src = cuda(async_pipeline)
    assert "tl::cp_async_16(" in src and "tl::cp_async_commit();" in src
    assert re.search(r"tl::cp_async_wait<0>\(\);\s*__syncthreads\(\);", src)


def tma_kernel():
    @T.prim_func
    def tma(A: T.Tensor((256, 64), "float16"), B: T.Tensor((256, 64), "float16")):
        with T.Kernel(2, threads=256) as bx:
            A_s = T.alloc_shared((128, 64), "float16")
            bar = T.alloc_barrier(128)
            with T.ws(1):
                T.tma_copy(A[bx * 128:(bx + 1) * 128, 0:64], A_s, barrier=bar)
                T.mbarrier_arrive(bar)
            with T.ws(0):
                T.mbarrier_wait_parity(bar, 0)
                T.copy(A_s, B[bx * 128, 0])

    return tma


def test_tma_copy_on_sm90_is_one_thread_with_a_tensor_map():
    src = cuda(tma_kernel(), "sm_90a")
    assert "const __grid_constant__ tl::TmaDescriptor A_desc" in src
    assert "tl::mbar_expect_tx((&bar[0]), 16384);" in src
    assert re.search(r"tl::tma_load_2d\(\(&A_s\[0\]\), \(&A_desc\), \(&bar\[0\]\), 0, bx \* 128\);", src)
    assert "if ((tx >= 128) && (tx < 256))" in src  # T.ws(1)


@pytest.mark.parametrize("configs", [{}, {"tl.disable_tma_lower": True}])
def test_tma_copy_elsewhere_is_a_thread_copy(configs):
    src = cuda(tma_kernel(), "sm_80" if not configs else "sm_90a", **configs)
    assert "tma_load" not in src and "TmaDescriptor" not in src
    assert "mbar_expect_tx" not in src
    assert "tx * 8 - 1024" in src  # the producer group's own thread index (tx - 128), 8 halves each
    assert "if (" not in src.split("T.tma_copy")[1].split("T.mbarrier_arrive")[0]  # bounds proven


@T.prim_func
def reduce_shared(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        S_ = T.alloc_shared((64, 64), "float32")
        m = T.alloc_fragment((64,), "float32")
        T.copy(A, S_)
        T.reduce_max(S_, m, dim=1)
        T.copy(m, B)


def test_unsupported_op_names_the_user_line():
    with pytest.raises(CompileError) as err:
        cuda(reduce_shared)
    text = str(err.value)
    assert "test_lower_tile_ops.py" in text and "T.reduce_max(S_, m, dim=1)" in text and "fragment" in text


@T.prim_func
def scalar_atomics(X: T.Tensor((128,), "float32"), Out: T.Tensor((4,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        tx = T.get_thread_binding()
        T.atomic_add(Out[tx % 4], X[tx])
        T.atomic_max(Out[0], X[tx])


def test_atomics():
    lines = body_lines(cuda(scalar_atomics))
    assert "tl::atomic_add((&Out[tx % 4]), X[tx]);" in lines
    assert "tl::atomic_max((&Out[0]), X[tx]);" in lines


@T.prim_func
def scan_fragment(A: T.Tensor((16, 64), "float32"), B: T.Tensor((16, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        f = T.alloc_fragment((16, 64), "float32")
        T.copy(A, f)
        T.cumsum(f, dim=1, reverse=True)
        T.copy(f, B)


def test_cumsum_of_a_fragment_scans_through_shared_memory():
    src = cuda(scan_fragment)
    assert "float* f_scan = reinterpret_cast<float*>(tl_smem + 0);" in src
    scan = src.split("for (int k = 0; k < 64; ++k)")[1]
    assert "f_scan[tx % 16 * 64 - k + 63]" in scan  # reverse: from the end of each row (it * 128 folded away)
    before, after = src.split("for (int k = 0; k < 64; ++k)")
    assert before.rstrip().count("__syncthreads();") == 1 and "__syncthreads();" in after


@T.prim_func
def bound_loop(A: T.Tensor((100,), "float32"), B: T.Tensor((100,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        for t in T.thread_binding(100, thread="threadIdx.x"):
            B[t] = A[t] + 1.0


def test_thread_binding_loop_is_the_thread_index():
    lines = body_lines(cuda(bound_loop))
    assert lines[-4:] == ["if (tx < 100) {", "B[tx] = A[tx] + 1.0f;", "}", "}"]
    assert not any(ln.startswith("for (") for ln in lines)


@T.prim_func
def store_4d(O: T.Tensor((2, 2, 64, 64), "float16")):
    with T.Kernel(2, 2, threads=128) as (bx, by):
        o = T.alloc_fragment((64, 64), "float32")
        T.fill(o, 1.0)
        T.copy(o, O[by, bx, :, :])


def test_fragment_store_into_a_region_of_a_4d_tensor_is_vectorized():
    src = cuda(store_4d)
    assert "reinterpret_cast<const uint" in src.split("T.copy(o")[1]


@T.prim_func
def add_tiles(A: T.Tensor((64, 64), "float16"), B: T.Tensor((64, 64), "float16"), C: T.Tensor((64, 64), "float16")):
    with T.Kernel(1, threads=128) as bx:
        A_s = T.alloc_shared((64, 64), "float16")
        c = T.alloc_fragment((64, 64), "float16")
        T.copy(A, A_s)
        for i, j in T.Parallel(64, 64):
            c[i, j] = A_s[i, j] + B[i, j]
        T.copy(c, C)


def test_parallel_loops_read_memory_operands_as_vectors():
    src = cuda(add_tiles)
    loop = src.split("T.Parallel(64, 64)")[1].split("T.copy(c, C)")[0]
    assert "*reinterpret_cast<uint4*>(tl_ld0) = *reinterpret_cast<const uint4*>(&A_s[" in loop
    assert "*reinterpret_cast<uint4*>(tl_ld1) = *reinterpret_cast<const uint4*>(&B[" in loop
    assert re.search(r"c\[j_v \* 8 \+ v\] = half_t\(tl_ld0\[v\] \+ tl_ld1\[v\]\);", loop)


def test_register_only_loops_stay_scalar():
    src = cuda(add_tiles)
    fill = cuda(reduce_max_keep).split("T.fill(m, 0.5)")[1].split("T.copy(X, x)")[0]
    assert "reinterpret_cast" not in fill and "m[" in fill
    assert "tl_vec" not in src.split("T.Parallel(64, 64)")[1].split("T.copy(c, C)")[0]
