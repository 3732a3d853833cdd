"""The values the frontend recognizes in a traced kernel: tensor annotations and loop specs.

The language layer builds them (`T.Tensor(...)`, `T.Parallel(...)`, `T.serial(...)`); the
tracer turns them into parameters and nested `For` statements.
"""
from __future__ import annotations

import dataclasses

from ..arith import simplify
from ..errors import TileLangTypeError, TileLangValueError
from ..ir import expr as E
from ..ir import stmt as S
from ..ir.buffer import Buffer
from ..ir.dtypes import int32
from ..ir.scope import Scope


@dataclasses.dataclass(frozen=True)
class TensorAnnotation:
    """`T.Tensor(shape, dtype)`: the type of a global-memory tensor parameter."""

    shape: tuple
    dtype: object
    strides: tuple | None = None

    def make_buffer(self, name: str, span=None) -> Buffer:
        return Buffer(name, self.shape, self.dtype, Scope.GLOBAL, span=span)


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


def range_spec(fn, start, stop=None, step=1):
    """(start, extent, step) of `T.<fn>(start, stop, step)`, checked and simplified."""
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_int_expr(v, f"T.{fn} bound") for v in (start, stop, step))
    if isinstance(step, E.IntImm) and step.value == 0:
        raise TileLangValueError(f"T.{fn}: step must not be zero")
    if E.is_const(step, 1):
        extent = simplify(stop - start)
    else:
        extent = simplify((stop - start + step - (1 if _positive(step) else -1)) // step)
    if isinstance(extent, E.IntImm) and extent.value < 0:
        extent = E.const(0)
    return (start, extent, step)


def _positive(step) -> bool:
    return not isinstance(step, E.IntImm) or step.value > 0
