"""lower_gemm: a T.gemm -> calls of tl_gemm.cuh (mma.sync) or, on sm_90a where `layout/mma.py:
wgmma_plan` accepts the op, of tl_wgmma.cuh (warpgroup MMA with shared-memory descriptors).

Before: a Gemm tile op whose buffers have the layouts `layout/mma.py: gemm_layouts` fixes (the
LayoutMap may hold any 32/64/128-byte swizzle or row-major for a shared operand: the template
is told which). The mma.sync template arguments are M, N, K, WarpM, WarpN, TransA, TransB,
ClearAccum, `tl::SmemLayout<rows, cols, swizzle>` of each shared operand (gemm_rs: the
`tl::Ints<...>` word of each register-A atom instead of A's), and the accumulator's atom
registers `tl::Ints<...>` (layout/mma.py mma_accumulator_atoms); pointers go to the first
element of each operand region in its lowered storage. gemm_rs is one call
`tl::gemm_rs<...>(&A_frag, &B, &C, thread)`. The wgmma call is `tl::wgmma_gemm_ss<M, N, K,
WgM, WgN, NWidth, MnMajorA, MnMajorB, ClearAccum, tl::WgmmaOperand<...>,
tl::WgmmaOperand<...>>(&A, &B, &C, thread)` (`_rs`: no A operand type).

An mma.sync gemm_ss is three statements, so that passes on the lowered IR can schedule its parts
by their effects (transform/rotate_pipeline.py overlaps a pipelined loop's barrier with them):
`gemm_ss_load_step0` (k-step 0's operand fragments from shared memory into the registers F0),
`gemm_ss_steps` (k-steps 0 .. KI-2, step 0 from F0, loading steps 1 .. KI-1 into the
double-buffered registers W) and `gemm_mma_last` (k-step KI-1 from registers only).
"""
from __future__ import annotations

from ....errors import LoweringError
from ....ir import expr as E
from ....ir import stmt as S
from ....ir import tileop as TOP
from ....ir.dtypes import handle, uint32
from ....ir.intrinsics import Effect, Intrinsic, register
from ....layout.mma import (gemm_config, gemm_layouts, mma_accumulator_atoms, mma_k, mma_operand_a_atoms,
                          shared_operand_layout, swizzle_bytes_for, wgmma_operand, wgmma_plan)
from ....layout.shared import SWIZZLE_BYTES, swizzled
from ..codegen import ctype
from ..intrinsics import spell
from .registry import lowering

SHARED_SCOPES = ("shared", "shared.dyn")
_TEMPLATE_ARGS = 11  # M, N, K, WarpM, WarpN, TransA, TransB, ClearAccum, LayoutA, LayoutB, AccRegs


def _gemm_intrinsic(name: str, effects: Effect, template_args: int, doc: str) -> Intrinsic:
    return spell(register(Intrinsic(name, effects, template_args, doc)), f"tl::{name}")


GEMM_SS_LOAD_STEP0 = _gemm_intrinsic(
    "gemm_ss_load_step0", Effect.READS_MEMORY, _TEMPLATE_ARGS,
    "(A, B, F0, thread): k-step 0's operand fragments, read from shared memory into the registers F0")
GEMM_SS_STEPS = _gemm_intrinsic(
    "gemm_ss_steps", Effect.READS_MEMORY, _TEMPLATE_ARGS,
    "(A, B, C, F0, W, thread): k-steps 0 .. KI-2 into C, step 0 from F0, steps 1 .. KI-1 loaded into W")
GEMM_MMA_LAST = _gemm_intrinsic(
    "gemm_mma_last", Effect.NONE, 7,
    "<M, N, K, WarpM, WarpN, A_t, AccRegs>(C, F): the last k-step into C from the fragments F (registers only)")


def _ints(values) -> str:
    """A table as the headers take it (tl_tables.cuh)."""
    return f"tl::Ints<{', '.join(str(int(v)) for v in values)}>"


def _layout_of(layout_map, ctx, buffer):
    if ctx is not None and hasattr(ctx, "layout"):
        return ctx.layout(buffer)
    buffers = getattr(layout_map, "buffers", layout_map) or {}
    return buffers.get(buffer)


def _swizzle_of(buffer, layout, span) -> int:
    """The swizzle width (0: row-major) of a shared operand's layout, as tl::SmemLayout takes it."""
    shape = buffer.static_shape()
    bits = buffer.dtype.bits
    preferred = swizzle_bytes_for(shape[-1], bits)
    for sw in (preferred,) + tuple(s for s in SWIZZLE_BYTES + (0,) if s != preferred):
        if sw and (shape[-1] * bits // 8) % sw:
            continue
        if layout is None and sw == 0:
            return 0
        if layout is not None and shared_operand_layout(shape, bits, sw).is_equal(layout):
            return sw
    raise LoweringError(f"T.gemm reads {buffer.name} from shared memory with ldmatrix, which needs a row-major or "
                        f"XOR-swizzled layout; it has {layout!r}", span)


def _check_region(region, what: str, span, row_align: int = 1) -> None:
    """The operand must cover whole rows of its buffer's last dim; the first row of a
    partial tile must keep the swizzle phase (a multiple of 8 rows)."""
    buf = region.buffer
    shape = buf.static_shape()
    last = region.region[-1]
    if not (E.is_const(last.min, 0) and E.is_const(last.extent, shape[-1])):
        raise LoweringError(f"T.gemm: the {what} operand {region!r} must span whole rows of {buf.name} "
                            f"(last dimension 0:{shape[-1]})", span)
    rows = region.region[-2]
    if E.is_const(rows.extent, shape[-2]) and E.is_const(rows.min, 0):
        return
    if not (isinstance(rows.min, E.IntImm) and rows.min.value % row_align == 0):
        raise LoweringError(f"T.gemm: the {what} operand {region!r} must start on a row multiple of {row_align}", span)


def _smem_layout_type(buffer, sw: int) -> str:
    shape = buffer.static_shape()
    return f"tl::SmemLayout<{shape[-2]}, {shape[-1]}, {sw}>"


def _flag(x: bool) -> str:
    return "true" if x else "false"


def _check_fragments(op, wanted, layout_map, ctx, span) -> None:
    for buf in (op.c.buffer, op.a.buffer):
        if buf.memory_scope not in SHARED_SCOPES and buf in wanted:
            have = _layout_of(layout_map, ctx, buf)
            if have is None or not wanted[buf].is_equal(have):
                raise LoweringError(f"T.gemm needs the fragment {buf.name} in the mma layout {wanted[buf]!r}, "
                                    f"but layout inference gave it {have!r}", span)
            full = all(E.is_const(r.min, 0) for r in (op.c if buf is op.c.buffer else op.a).region)
            if not full:
                raise LoweringError(f"T.gemm: the fragment operand {buf.name} must be used whole", span)


def _wgmma_operand_type(op, region, which, swizzle, mn_major, mn_width, layout_map, ctx) -> str:
    """tl::WgmmaOperand<...> for a shared operand, from the layout the LayoutMap holds."""
    buf = region.buffer
    shape = buf.static_shape()
    have = _layout_of(layout_map, ctx, buf)
    if have is None or not shared_operand_layout(shape, 16, swizzle).is_equal(have):
        raise LoweringError(f"T.gemm reads {buf.name} with wgmma descriptors, which need the {swizzle}B-swizzled "
                            f"layout; it has {have!r}", op.span)
    _check_region(region, which, op.span, row_align=8)
    desc = wgmma_operand(swizzled(shape[-2:], 16, swizzle), 2, mn_major, mn_width)
    if desc is None:
        raise LoweringError(f"T.gemm: no wgmma descriptor reads {buf.name} ({shape}, {swizzle}B swizzle)", op.span)
    return wgmma_operand_type(desc)


def wgmma_operand_type(desc) -> str:
    """The C++ type tl_wgmma.cuh takes for one shared operand's descriptors (a WgmmaOperand value)."""
    ks = ", ".join(str(x) for x in desc.k_offsets)
    return f"tl::WgmmaOperand<{desc.swizzle_mode}, {desc.lbo}, {desc.sbo}, {desc.mn_stride}, tl::Ints<{ks}>>"


def _lower_wgmma(op, plan, layout_map, ctx) -> S.Stmt:
    _check_fragments(op, gemm_layouts(op, ctx.num_threads, ctx.target), layout_map, ctx, op.span)
    mn_a, mn_b = bool(op.transpose_a), not op.transpose_b
    params = [plan.m, plan.n, plan.k, plan.wg_m, plan.wg_n, plan.n_width]
    b_type = _wgmma_operand_type(op, op.b, "B", plan.swizzle_b, mn_b, plan.n_width, layout_map, ctx)
    if op.a.buffer.memory_scope in SHARED_SCOPES:
        a_type = _wgmma_operand_type(op, op.a, "A", plan.swizzle_a, mn_a, 64, layout_map, ctx)
        name = (f"tl::wgmma_gemm_ss<{', '.join(map(str, params))}, {_flag(mn_a)}, {_flag(mn_b)}, "
                f"{_flag(op.clear_accum)}, {a_type}, {b_type}>")
    else:
        name = (f"tl::wgmma_gemm_rs<{', '.join(map(str, params))}, {_flag(mn_b)}, {_flag(op.clear_accum)}, "
                f"{b_type}>")
    args = tuple(ctx.address(r.buffer, r.mins) for r in (op.a, op.b, op.c)) + (E.convert(ctx.thread),)
    return S.Evaluate(E.Call(handle, name, args), span=op.span)


def lower_gemm(op, layout_map, ctx) -> S.Stmt:
    """The tl::gemm_ss / gemm_rs (or wgmma_gemm_ss / _rs) call for `op` run by ctx.num_threads
    threads (ctx.thread)."""
    span = op.span
    plan = wgmma_plan(op, ctx.num_threads, ctx.target)
    if plan is not None:
        return _lower_wgmma(op, plan, layout_map, ctx)
    m, n, k, warp_m, warp_n = gemm_config(op, ctx.num_threads)
    wanted = gemm_layouts(op, ctx.num_threads, ctx.target)
    _check_fragments(op, wanted, layout_map, ctx, span)
    layouts = []
    for which, region in (("A", op.a), ("B", op.b)):
        buf = region.buffer
        if buf.memory_scope in SHARED_SCOPES:
            sw = _swizzle_of(buf, _layout_of(layout_map, ctx, buf), span)
            _check_region(region, which, span, row_align=8 if sw else 1)
            layouts.append(_smem_layout_type(buf, sw))
        else:  # A in registers: the word of each of its m16k16 atoms
            layouts.append(_ints(mma_operand_a_atoms(m, k, warp_m, warp_n, buf.dtype)))
    flags = [_flag(op.transpose_a), _flag(op.transpose_b), _flag(op.clear_accum)]
    acc_regs = _ints(mma_accumulator_atoms(m, n, warp_m, warp_n, op.c.buffer.dtype.bits))
    template = [m, n, k, warp_m, warp_n, *flags, *layouts, acc_regs]
    thread = E.convert(ctx.thread)
    a, b, c = (ctx.address(r.buffer, r.mins) for r in (op.a, op.b, op.c))
    if op.a.buffer.memory_scope not in SHARED_SCOPES:
        name = f"tl::gemm_rs<{', '.join(map(str, template))}>"
        return S.Evaluate(E.Call(handle, name, (a, b, c, thread)), span=span)
    return S.seq(_gemm_ss_steps(op, template, (a, b, c), thread, m, n, k, warp_m, warp_n, ctx))


def _gemm_ss_steps(op, template, pointers, thread, m, n, k, warp_m, warp_n, ctx) -> list:
    """The three statements of an mma.sync gemm_ss (see the module docstring)."""
    a, b, c = pointers
    words = m // warp_m // 16 * 4 + n // warp_n // 8 * 2  # one k-step's A and B fragments
    steps = k // mma_k(op.a.buffer.dtype)
    name = op.c.buffer.name
    step0 = ctx.alloc(f"{name}_step0", (words,), uint32, "local")
    work = ctx.alloc(f"{name}_steps", (2 * words,), uint32, "local")
    last = ctx.address(step0, (E.const(0),)) if steps == 1 else ctx.address(work, (E.const((steps - 1) % 2 * words),))
    return [GEMM_SS_LOAD_STEP0.stmt(*template, a, b, ctx.address(step0, (E.const(0),)), thread, span=op.span),
            GEMM_SS_STEPS.stmt(*template, a, b, c, ctx.address(step0, (E.const(0),)), ctx.address(work, (E.const(0),)), thread,
                               span=op.span),
            GEMM_MMA_LAST.stmt(m, n, k, warp_m, warp_n, ctype(op.a.buffer.dtype), template[-1], c, last, span=op.span)]


@lowering(TOP.Gemm)
def _lower_gemm_op(op, ctx) -> S.Stmt:
    return lower_gemm(op, ctx.layout_map, ctx)
