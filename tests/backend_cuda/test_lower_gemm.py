"""lower_gemm: golden text of the gemm_ss parts / tl::gemm_rs calls and the errors it raises."""
import pytest

from tilelang.backend.cuda.target import describe
from tilelang.errors import LoweringError, Span
from tilelang.ir import expr as E
from tilelang.ir import stmt as S
from tilelang.ir.buffer import Buffer, BufferRegion, Range
from tilelang.ir.dtypes import as_dtype
from tilelang.ir.tileop import Gemm
from tilelang.layout import row_major
from tilelang.layout.mma import gemm_layouts
from tilelang.transform.layout_inference import LayoutMap
from tilelang.backend.cuda.lower.context import LowerContext
from tilelang.backend.cuda.lower.gemm import lower_gemm

SPAN = Span("kernel.py", 7)
TX = E.Var(as_dtype("int32"), "tx")


def _buf(name, shape, dtype, scope):
    return Buffer(name, tuple(E.const(s) for s in shape), as_dtype(dtype), scope)


def _region(buf, ranges=None):
    if ranges is None:
        return BufferRegion.full(buf)
    return BufferRegion(buf, tuple(Range(E.convert(lo), E.const(ext)) for lo, ext in ranges))


def _lower(op, threads=128, overrides=None):
    layouts = LayoutMap(buffers={**gemm_layouts(op, threads, describe("sm_80")), **(overrides or {})})
    ctx = LowerContext(target=describe("sm_80"), layout_map=layouts, thread=TX, num_threads=threads)
    return lower_gemm(op, layouts, ctx)


def test_gemm_ss_pipelined_stage():
    a = _buf("A_s", (3, 128, 32), "float16", "shared.dyn")
    b = _buf("B_s", (3, 32, 128), "float16", "shared.dyn")
    c = _buf("C_f", (128, 128), "float32", "local.fragment")
    k = E.Var(as_dtype("int32"), "k")
    op = Gemm(_region(a, [(k % 3, 1), (0, 128), (0, 32)]), _region(b, [(k % 3, 1), (0, 32), (0, 128)]),
              _region(c), span=SPAN)
    stmt = _lower(op)
    assert isinstance(stmt, S.SeqStmt) and all(s.span == SPAN for s in stmt.stmts)
    acc = "'tl::Ints<" + ", ".join(str(4 * i) for i in range(32)) + ">'"  # (mi, ni) atoms, 4 registers each
    template = ("128, 128, 32, 2, 2, 'false', 'false', 'false', 'tl::SmemLayout<128, 32, 64>', "
                f"'tl::SmemLayout<32, 128, 128>', {acc}, ")
    a_ptr, b_ptr = "T.call('address_of', A_s[k % 3 * 4096]) -> handle", "T.call('address_of', B_s[k % 3 * 4096]) -> handle"
    step0, work = "T.call('address_of', C_f_step0[0]) -> handle", "T.call('address_of', C_f_steps[0]) -> handle"
    c_ptr = "T.call('address_of', C_f[0]) -> handle"
    assert [repr(s) for s in stmt.stmts] == [
        f"T.gemm_ss_load_step0({template}{a_ptr}, {b_ptr}, {step0}, tx)",
        f"T.gemm_ss_steps({template}{a_ptr}, {b_ptr}, {c_ptr}, {step0}, {work}, tx)",
        # k-step 1 (of 2) lives in the second fragment set: 4 * 4 + 8 * 2 words in
        f"T.gemm_mma_last(128, 128, 32, 2, 2, 'half_t', {acc}, {c_ptr}, T.call('address_of', C_f_steps[32]) -> handle)"]


def test_gemm_ss_transposed_clear_policy():
    a = _buf("Q_s", (64, 128), "bfloat16", "shared.dyn")
    b = _buf("K_s", (64, 128), "bfloat16", "shared.dyn")
    c = _buf("S_f", (64, 64), "float32", "local.fragment")
    op = Gemm(_region(a), _region(b), _region(c), transpose_b=True, policy="FullRow", clear_accum=True, span=SPAN)
    load, steps, last = _lower(op).stmts
    assert repr(load) == (
        "T.gemm_ss_load_step0(64, 64, 128, 4, 1, 'false', 'true', 'true', 'tl::SmemLayout<64, 128, 128>', "
        "'tl::SmemLayout<64, 128, 128>', 'tl::Ints<0, 4, 8, 12, 16, 20, 24, 28>', T.call('address_of', Q_s[0]) -> handle, "
        "T.call('address_of', K_s[0]) -> handle, T.call('address_of', S_f_step0[0]) -> handle, tx)")
    # 8 k-steps: the last one in fragment set 1 of S_f_steps (sets of 4 + 8 * 2 words)
    assert "S_f_steps[20]" in repr(last) and "'bfloat16_t'" in repr(last)


def test_gemm_rs_flash_attention():
    p = _buf("p", (64, 64), "float16", "local.fragment")
    v = _buf("V_s", (64, 64), "float16", "shared.dyn")
    o = _buf("o", (64, 64), "float32", "local.fragment")
    op = Gemm(_region(p), _region(v), _region(o), policy="FullRow", span=SPAN)
    assert repr(_lower(op)) == (
        "T.tl::gemm_rs<64, 64, 64, 4, 1, false, false, false, tl::Ints<0, 4, 8, 12>, "
        "tl::SmemLayout<64, 64, 128>, tl::Ints<0, 4, 8, 12, 16, 20, 24, 28>>(T.call('address_of', p[0]) -> handle, "
        "T.call('address_of', V_s[0]) -> handle, T.call('address_of', o[0]) -> handle, tx)")


def test_row_major_operand_and_int8():
    a = _buf("A_s", (64, 64), "int8", "shared.dyn")
    b = _buf("B_s", (64, 64), "int8", "shared.dyn")
    c = _buf("C_f", (64, 64), "int32", "local.fragment")
    op = Gemm(_region(a), _region(b), _region(c), transpose_b=True, span=SPAN)
    text = repr(_lower(op, overrides={a: row_major((64, 64))}))
    assert "T.gemm_ss_steps(64, 64, 64, 2, 2, 'false', 'true', 'false', 'tl::SmemLayout<64, 64, 0>', " \
           "'tl::SmemLayout<64, 64, 64>'" in text


def test_row_subregion_of_a_larger_buffer():
    a = _buf("A_s", (128, 32), "float16", "shared.dyn")
    b = _buf("B_s", (32, 64), "float16", "shared.dyn")
    c = _buf("C_f", (64, 64), "float32", "local.fragment")
    op = Gemm(_region(a, [(64, 64), (0, 32)]), _region(b), _region(c), span=SPAN)
    text = repr(_lower(op))
    assert "tl::SmemLayout<128, 32, 64>" in text and "A_s[2048]" in text
    bad = Gemm(_region(a, [(4, 64), (0, 32)]), _region(b), _region(c), span=SPAN)
    with pytest.raises(LoweringError, match="multiple of 8"):
        _lower(bad)


def test_wrong_fragment_layout_is_an_error():
    a = _buf("A_s", (64, 32), "float16", "shared.dyn")
    b = _buf("B_s", (32, 64), "float16", "shared.dyn")
    c = _buf("C_f", (64, 64), "float32", "local.fragment")
    op = Gemm(_region(a), _region(b), _region(c), span=SPAN)
    from tilelang.layout import parallel_plan

    with pytest.raises(LoweringError) as err:
        _lower(op, overrides={c: parallel_plan((64, 64), 128)})
    assert "kernel.py:7" in str(err.value) and "C_f" in str(err.value)


# ------------------------------------------------------------------ wgmma (sm_90a)
def _lower90(op, threads=128, overrides=None, arch="sm_90a"):
    layouts = LayoutMap(buffers={**gemm_layouts(op, threads, describe(arch)), **(overrides or {})})
    ctx = LowerContext(target=describe(arch), layout_map=layouts, thread=TX, num_threads=threads)
    return lower_gemm(op, layouts, ctx)


def test_wgmma_ss_pipelined_stage_two_warpgroups():
    a = _buf("A_s", (4, 128, 64), "float16", "shared.dyn")
    b = _buf("B_s", (4, 64, 256), "float16", "shared.dyn")
    c = _buf("C_f", (128, 256), "float32", "local.fragment")
    k = E.Var(as_dtype("int32"), "k")
    op = Gemm(_region(a, [(k % 4, 1), (0, 128), (0, 64)]), _region(b, [(k % 4, 1), (0, 64), (0, 256)]),
              _region(c), span=SPAN)
    assert repr(_lower90(op, threads=256)) == (
        "T.tl::wgmma_gemm_ss<128, 256, 64, 1, 2, 128, false, true, false, "
        "tl::WgmmaOperand<1, 16, 1024, 8192, tl::Ints<0, 32, 64, 96>>, "
        "tl::WgmmaOperand<1, 8192, 1024, 16384, tl::Ints<0, 2048, 4096, 6144>>>("
        "T.call('address_of', A_s[k % 4 * 8192]) -> handle, T.call('address_of', B_s[k % 4 * 16384]) -> handle, "
        "T.call('address_of', C_f[0]) -> handle, tx)")


def test_wgmma_ss_transposed_operands():
    a = _buf("A_s", (64, 128), "bfloat16", "shared.dyn")    # (K, M): MN-major
    b = _buf("B_s", (64, 64), "bfloat16", "shared.dyn")     # (N, K): K-major
    c = _buf("C_f", (128, 64), "float32", "local.fragment")
    op = Gemm(_region(a), _region(b), _region(c), transpose_a=True, transpose_b=True, clear_accum=True, span=SPAN)
    assert repr(_lower90(op)).startswith(
        "T.tl::wgmma_gemm_ss<128, 64, 64, 1, 1, 64, true, false, true, "
        "tl::WgmmaOperand<1, 8192, 1024, 8192, tl::Ints<0, 2048, 4096, 6144>>, "
        "tl::WgmmaOperand<1, 16, 1024, 0, tl::Ints<0, 32, 64, 96>>>(")


def test_wgmma_rs_flash_attention():
    p = _buf("p", (128, 64), "float16", "local.fragment")
    v = _buf("V_s", (64, 128), "float16", "shared.dyn")
    o = _buf("o", (128, 128), "float32", "local.fragment")
    op = Gemm(_region(p), _region(v), _region(o), policy="FullRow", span=SPAN)
    assert repr(_lower90(op, threads=256)) == (
        "T.tl::wgmma_gemm_rs<128, 128, 64, 2, 1, 128, true, false, "
        "tl::WgmmaOperand<1, 8192, 1024, 0, tl::Ints<0, 2048, 4096, 6144>>>("
        "T.call('address_of', p[0]) -> handle, T.call('address_of', V_s[0]) -> handle, "
        "T.call('address_of', o[0]) -> handle, tx)")


def test_wgmma_only_on_sm_90a_and_for_f16_bf16():
    a = _buf("A_s", (64, 64), "float16", "shared.dyn")
    b = _buf("B_s", (64, 64), "float16", "shared.dyn")
    c = _buf("C_f", (64, 64), "float32", "local.fragment")
    op = Gemm(_region(a), _region(b), _region(c), span=SPAN)
    assert "T.gemm_ss_steps(" in repr(_lower90(op, arch="sm_90"))
    assert "tl::wgmma_gemm_ss<" in repr(_lower90(op, arch="sm_90a"))
    a8, b8 = _buf("A8", (64, 64), "int8", "shared.dyn"), _buf("B8", (64, 64), "int8", "shared.dyn")
    c8 = _buf("C8", (64, 64), "int32", "local.fragment")
    assert "T.gemm_ss_steps(" in repr(_lower90(Gemm(_region(a8), _region(b8), _region(c8), transpose_b=True, span=SPAN)))


def test_wgmma_row_subregion_and_wrong_layout():
    a = _buf("A_s", (128, 64), "float16", "shared.dyn")
    b = _buf("B_s", (64, 64), "float16", "shared.dyn")
    c = _buf("C_f", (64, 64), "float32", "local.fragment")
    op = Gemm(_region(a, [(64, 64), (0, 64)]), _region(b), _region(c), span=SPAN)
    assert "A_s[4096]" in repr(_lower90(op))
    with pytest.raises(LoweringError, match="swizzled"):
        _lower90(op, overrides={b: row_major((64, 64))})
