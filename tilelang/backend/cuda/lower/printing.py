"""T.print: a scalar from every thread that reaches it; a buffer once per block with indices
(thread 0 for shared / global / local; for a fragment, each thread prints what it holds)."""
from __future__ import annotations

from ....ir import expr as E
from ....ir import intrinsics as I
from ....ir import stmt as S
from ....ir import tileop as TOP
from ....ir.buffer import BufferRegion
from ....ir.dtypes import int32
from .parallel import lower_iterations
from .registry import lowering
from ....ir.scope import Scope

_FMT = {"float": "%f", "int": "%d", "uint": "%u", "bool": "%d"}


def _printf(fmt: str, *args) -> S.Evaluate:
    return I.PRINTF.stmt(E.StringImm(int32, fmt), *args)


def _printable(v):
    if v.dtype.is_float:
        return E.cast(v, "float64"), "%f"
    if v.dtype.bits == 64:
        return E.cast(v, "int64"), "%lld"
    return E.cast(v, "int32"), "%d"


@lowering(TOP.Print)
def lower_print(op: TOP.Print, ctx) -> S.Stmt:
    msg = op.msg or "T.print"
    if not isinstance(op.value, BufferRegion):
        value, fmt = _printable(op.value)
        line = _printf(f"{msg}: block (%d, %d, %d) thread (%d, %d, %d): {fmt}\n", *_where(), value)
        v = op.value
        if isinstance(v, E.BufferLoad) and v.buffer.memory_scope == Scope.FRAGMENT:
            owner = ctx.fragment(v.buffer).thread(*v.indices)  # one element: printed by its holder
            owner = owner if isinstance(owner, E.Expr) else E.const(int(owner))
            return S.IfThenElse(E.binary("==", ctx.thread, owner), line, span=op.span)
        return line
    region = op.value
    buf = region.buffer
    vars_ = [ctx.var(f"i{n}") for n in range(len(region.extents))]
    idx = [m + v for m, v in zip(region.mins, vars_)]
    value, fmt = _printable(E.BufferLoad(buf.dtype, buf, tuple(idx)))
    where = ", ".join(["%d"] * len(idx))
    line = _printf(f"{msg}: {buf.name}[{where}] = {fmt}\n", *[E.cast(i, int32) for i in idx], value)
    if buf.memory_scope == Scope.FRAGMENT:
        frag = ctx.fragment(buf)
        if frag.replicate > 1:  # each element once: from its first replica's thread
            owner = frag.thread(*vars_)
            owner = owner if isinstance(owner, E.Expr) else E.const(int(owner))
            line = S.IfThenElse(E.binary("==", ctx.thread, owner), line)
        return lower_iterations(vars_, [E.const(int(s)) for s in frag.shape], line, ctx, frag, span=op.span)
    body = line
    for v, e in reversed(list(zip(vars_, region.extents))):
        body = S.For(v, E.const(0), e, "serial", body)
    return S.IfThenElse(ctx.thread == 0, body, span=op.span)


def _where():
    return tuple(index() for index in I.BLOCK_INDEX + I.THREAD_INDEX)
