"""Atomics: scalar `T.atomic_add(buf[i], v)` and element-wise tile atomics -> the atomic_<op> intrinsic."""
from __future__ import annotations

from ....errors import CompileError
from ....ir import expr as E
from ....ir import intrinsics as I
from ....ir import stmt as S
from ....ir import tileop as TOP
from .context import address_of
from .copy import box_dims, in_bounds, region_index
from ....layout import Striped
from .parallel import lower_iterations
from .registry import lowering
from ....ir.scope import Scope


def _atomic(ctx, op, buffer, indices, value, span=None):
    load = ctx.load(buffer, indices)
    return I.ATOMICS[op].stmt(address_of(load), E.cast(value, buffer.dtype), dtype=buffer.dtype, span=span)


def lower_scalar_atomic(s, ctx) -> S.Stmt:
    return _atomic(ctx, s.op, s.buffer, s.indices, s.value, s.span)


@lowering(TOP.AtomicRegion)
def lower_atomic_region(op: TOP.AtomicRegion, ctx) -> S.Stmt:
    dst = op.dst
    if isinstance(op.src, E.Expr):
        dims = [d for d, e in enumerate(dst.extents) if not E.is_const(e, 1)]
        vars_ = [ctx.var(f"i{n}") for n in range(len(dims))]
        idx = region_index(dst, dims, vars_)
        body = _atomic(ctx, op.op, dst.buffer, idx, op.src, op.span)
        extents = [dst.extents[d] for d in dims]
        plan = Striped([e.value for e in extents], ctx.num_threads)
        return lower_iterations(vars_, extents, body, ctx, plan, span=op.span)
    src = op.src
    dims = box_dims(src, dst)
    vars_ = [ctx.var(f"i{n}") for n in range(len(dims))]
    sidx = region_index(src, [a for a, _, _ in dims], vars_)
    didx = region_index(dst, [b for _, b, _ in dims], vars_)
    for v, (_, _, e) in zip(vars_, dims):
        if not isinstance(e, E.IntImm):
            raise CompileError("a tile atomic needs a static box")
        ctx.ranges.bind(v, 0, e.value - 1)
    body = _atomic(ctx, op.op, dst.buffer, didx, E.BufferLoad(src.buffer.dtype, src.buffer, tuple(sidx)), op.span)
    if dst.buffer.memory_scope == Scope.GLOBAL:
        cond = in_bounds(dst.buffer, didx, ctx.ranges)
        if cond is not None:
            body = S.IfThenElse(cond, body)
    extents = [e for _, _, e in dims]
    if src.buffer.memory_scope == Scope.FRAGMENT:
        frag = ctx.fragment(src.buffer)
        if tuple(int(s) for s in frag.shape) == tuple(e.value for e in extents) and all(E.is_const(m, 0) for m in src.mins):
            if frag.replicate > 1:  # one atomic per element: only the first replica's thread
                owner = frag.thread(*vars_)
                body = S.IfThenElse(E.binary("==", owner if isinstance(owner, E.Expr) else E.const(owner), ctx.thread), body)
            return lower_iterations(vars_, extents, body, ctx, frag, span=op.span)
        raise CompileError(f"a tile atomic from part of the fragment {src.buffer.name} is not supported")
    plan = Striped([e.value for e in extents], ctx.num_threads)
    return lower_iterations(vars_, extents, body, ctx, plan, span=op.span)
