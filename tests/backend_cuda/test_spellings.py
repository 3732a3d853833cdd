"""The CUDA spelling of each intrinsic, codegen's refusal of unknown calls, and pointer alignment."""
import pytest

import tilelang.language as T
from tilelang.backend.cuda import intrinsics as C
from tilelang.backend.cuda import lower_to_source
from tilelang.backend.cuda.codegen import CodeGen
from tilelang.errors import CompileError
from tilelang.ir import expr as E
from tilelang.ir import intrinsics as I
from tilelang.ir.buffer import Buffer
from tilelang.target import Target


def test_every_registered_intrinsic_has_a_cuda_spelling_or_is_math():
    # set_max_nreg is lowered to setmaxnreg_inc / _dec first; a grid barrier is refused by the lowering
    unspelled = [n for n, i in I.registered().items()
                 if n not in C._SPELLING and I.MATH.get(n) is not i and not n.startswith("test_")]
    assert unspelled == ["sync_grid", "set_max_nreg"]


def test_spellings():
    bar = Buffer("bar", (E.const(1),), E.const(0).dtype, "shared.barrier")
    assert C.spelled(I.ASYNC_WAIT(2), ["2"]) == "tl::cp_async_wait<2>()"
    assert C.spelled(I.ASYNC_COPY(16, E.const(0), E.const(0)), ["16", "d", "s"]) == "tl::cp_async_16(d, s)"
    assert C.spelled(I.ASYNC_COPY_ZFILL(8, 0, 0, 0), ["8", "d", "s", "ok"]) == "tl::cp_async_8_zfill(d, s, ok)"
    assert C.spelled(I.BLOCK_BARRIER(), []) == "__syncthreads()"
    assert C.spelled(I.MBARRIER_WAIT_PARITY(bar[0], 1), ["bar[0]", "1"]) == "tl::mbar_wait((&bar[0]), 1)"
    assert C.spelled(I.SET_MAX_NREG_INC(240), ["240"]) == "tl::setmaxnreg_inc<240>()"
    assert C.spelled(I.TMA_LOAD(0, 0, 0, 1, 2), ["d", "m", "b", "x", "y"]) == "tl::tma_load_2d(d, m, b, x, y)"
    assert C.spelled(I.BLOCK_INDEX[1](), []) == "(int)blockIdx.y"
    assert C.spelled(E.Call(E.const(0).dtype, "unknown", ()), []) is None


def test_a_spelling_is_given_once():
    with pytest.raises(ValueError, match="already has a CUDA spelling"):
        C.spell(I.BLOCK_BARRIER, "tl::syncthreads")


@T.prim_func
def copy_and_extern(A: T.Tensor((256,), "float16"), B: T.Tensor((256,), "float16"), n: T.int32):
    with T.Kernel(1, threads=128) as bx:
        S_ = T.alloc_shared((256,), "float16")
        T.copy(A[0:256], S_)
        for i in T.Parallel(256):
            B[i] = S_[i] + T.call_extern("float16", "my_fn", n)


def test_user_extern_calls_print_by_name_and_alignment_comes_from_the_accesses():
    src, sig, _, _ = lower_to_source(copy_and_extern, Target("cuda", "sm_80"))
    assert "my_fn(n)" in src
    assert sig.vector_bytes == {"A": 16}  # cp.async-sized reads of A; B is stored element by element


def test_an_unregistered_call_is_a_compile_error_naming_it():
    cg = CodeGen(copy_and_extern)
    with pytest.raises(CompileError, match="'mystery'"):
        cg.expr(E.Call(E.const(0).dtype, "mystery", ()))
