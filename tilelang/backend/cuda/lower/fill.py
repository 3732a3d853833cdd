"""T.fill / T.clear: every element of a region gets one value.

Fragments: each thread writes its registers; local arrays: each thread its whole array;
shared / global regions: the threads stride over the box.
"""
from __future__ import annotations

from ....errors import CompileError
from ....ir import expr as E
from ....ir import stmt as S
from ....ir import tileop as TOP
from .context import lowered_loop
from .copy import in_bounds, region_index
from ....layout import Striped
from .parallel import lower_iterations
from .registry import lowering
from ....ir.scope import Scope


@lowering(TOP.Fill)
def lower_fill(op: TOP.Fill, ctx) -> S.Stmt:
    region = op.dst
    buf = region.buffer
    dims = [d for d, e in enumerate(region.extents) if not E.is_const(e, 1)] or [len(region.extents) - 1]
    vars_ = [ctx.var(f"i{n}") for n in range(len(dims))]
    extents = [region.extents[d] for d in dims]
    idx = region_index(region, dims, vars_)
    value = E.cast(op.value, buf.dtype)
    store = ctx.store(buf, idx, value, span=op.span) if buf.memory_scope != Scope.FRAGMENT else S.BufferStore(buf, tuple(idx), value, span=op.span)
    if buf.memory_scope == Scope.FRAGMENT:
        frag = ctx.fragment(buf)
        shape = tuple(int(s) for s in frag.shape)
        full_vars = [ctx.var(f"i{n}") for n in range(len(shape))]
        st = S.BufferStore(buf, tuple(full_vars), value, span=op.span)
        cond = None  # a box inside the fragment: each thread fills the elements it holds there
        for v, r, n in zip(full_vars, region.region, shape):
            if not (E.is_const(r.min, 0) and E.is_const(r.extent, n)):
                inside = E.binary("and", v >= r.min, v < r.min + r.extent)
                cond = inside if cond is None else E.binary("and", cond, inside)
        if cond is not None:
            st = S.IfThenElse(cond, st, span=op.span)
        return lower_iterations(full_vars, [E.const(s) for s in shape], st, ctx, frag, span=op.span)
    if any(not isinstance(e, E.IntImm) for e in extents):
        raise CompileError(f"T.fill of {buf.name} needs a static region")
    if buf.memory_scope in (Scope.LOCAL, Scope.VAR):
        body = store
        for v, e in reversed(list(zip(vars_, extents))):
            body = S.For(v, E.const(0), e, "unroll" if e.value <= 64 else "serial", body, annotations=lowered_loop())
        return body
    if buf.memory_scope == Scope.GLOBAL:
        for v, e in zip(vars_, extents):
            ctx.ranges.bind(v, 0, e.value - 1)
        cond = in_bounds(buf, idx, ctx.ranges)
        if cond is not None:
            store = S.IfThenElse(cond, store, span=op.span)
    plan = Striped([e.value for e in extents], ctx.num_threads)
    return lower_iterations(vars_, extents, store, ctx, plan, span=op.span)
