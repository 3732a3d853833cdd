"""Loop constructors: `for i, j in T.Parallel(m, n)`, T.Pipelined, T.serial, T.unroll, ...

Each returns a LoopSpec that the frontend turns into nested `For` statements when it meets
it in a `for` statement.
"""
from __future__ import annotations

import dataclasses

from ..errors import TileLangTypeError, TileLangValueError
from ..ir import expr as E
from ..ir import stmt as S
from ..ir.dtypes import int32

__all__ = ["Parallel", "Pipelined", "serial", "unroll", "vectorized", "thread_binding", "grid", "LoopSpec"]


@dataclasses.dataclass
class LoopSpec:
    """One or more nested loops of one kind over (min, extent, step) ranges."""

    kind: str
    ranges: list
    annotations: dict = dataclasses.field(default_factory=dict)

    def make_vars(self, names) -> list:
        if len(names) != len(self.ranges):
            raise TileLangValueError(
                f"this loop has {len(self.ranges)} loop variable(s) but the `for` target names {len(names)}")
        return [E.Var(int32, n) for n in names]

    def build(self, loop_vars, body: S.Stmt, span=None) -> S.Stmt:
        for var, (lo, extent, step) in reversed(list(zip(loop_vars, self.ranges))):
            body = S.For(var, lo, extent, self.kind, body, step=step, annotations=dict(self.annotations), span=span)
        return body

    def __iter__(self):
        raise TileLangTypeError(
            f"T.{self.kind} loops can only be iterated inside a kernel traced by @T.prim_func or @tilelang.jit")


def _int_expr(x, what):
    if isinstance(x, bool) or isinstance(x, float):
        raise TileLangTypeError(f"{what} must be an integer, got {x!r}")
    e = E.convert(x)
    if not e.dtype.is_int:
        raise TileLangTypeError(f"{what} must be an integer expression, got {e.dtype} `{e!r}`")
    return e


def _range(fn, start, stop, step=1):
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_int_expr(v, f"T.{fn} bound") for v in (start, stop, step))
    if isinstance(step, E.IntImm) and step.value == 0:
        raise TileLangValueError(f"T.{fn}: step must not be zero")
    from ..arith import simplify

    if E.is_const(step, 1):
        extent = simplify(stop - start)
    else:
        extent = simplify((stop - start + step - (1 if _positive(step) else -1)) // step)
    if isinstance(extent, E.IntImm) and extent.value < 0:
        extent = E.const(0)
    return (start, extent, step)


def _positive(step) -> bool:
    return not isinstance(step, E.IntImm) or step.value > 0


def Parallel(*extents, coalesced_width=None, loop_layout=None, prefer_async=None):
    """A logical loop over a whole tile; the compiler picks which thread runs which iteration."""
    if len(extents) == 1 and isinstance(extents[0], (tuple, list)):
        extents = tuple(extents[0])
    if not extents:
        raise TileLangValueError("T.Parallel needs at least one extent")
    ann = {}
    if coalesced_width is not None:
        ann["coalesced_width"] = int(coalesced_width)
    if loop_layout is not None:
        ann["loop_layout"] = loop_layout
    return LoopSpec("parallel", [_range("Parallel", e, None) for e in extents], ann)


def Pipelined(start, stop=None, num_stages=0, order=None, stage=None, sync=None, group=None):
    """A sequential loop whose copies the compiler overlaps with compute over `num_stages` buffers."""
    if isinstance(num_stages, bool) or not isinstance(num_stages, int) or num_stages < 0:
        raise TileLangValueError(f"T.Pipelined: num_stages must be a non-negative int, got {num_stages!r}")
    ann = {"num_stages": num_stages}
    for key, value in (("order", order), ("stage", stage), ("sync", sync), ("group", group)):
        if value is not None:
            ann[key] = tuple(value) if isinstance(value, list) else value
    return LoopSpec("pipelined", [_range("Pipelined", start, stop)], ann)


def serial(start, stop=None, step=1, *, annotations=None):
    """A sequential loop (what `range` means inside a kernel)."""
    return LoopSpec("serial", [_range("serial", start, stop, step)], dict(annotations or {}))


def unroll(start, stop=None, step=1, *, explicit=False, unroll_factor=None, annotations=None):
    """A serial loop that the compiler unrolls fully (or by `unroll_factor`)."""
    ann = dict(annotations or {})
    if unroll_factor is not None:
        ann["unroll_factor"] = unroll_factor
    return LoopSpec("unroll", [_range("unroll", start, stop, step)], ann)


def vectorized(start, stop=None, *, annotations=None):
    """A loop over consecutive elements that the compiler turns into vector loads and stores."""
    return LoopSpec("vectorized", [_range("vectorized", start, stop)], dict(annotations or {}))


def thread_binding(start, stop=None, thread="threadIdx.x", *, annotations=None):
    """A loop whose variable is the thread index `thread` (its extent is the thread count)."""
    if thread not in ("threadIdx.x", "threadIdx.y", "threadIdx.z"):
        raise TileLangValueError(f"T.thread_binding: thread must be threadIdx.x/y/z, got {thread!r}")
    return LoopSpec("thread", [_range("thread_binding", start, stop)], {"thread": thread, **(annotations or {})})


def grid(*extents):
    """Nested serial loops: `for i, j in T.grid(m, n)`."""
    return LoopSpec("serial", [_range("grid", e, None) for e in extents])
