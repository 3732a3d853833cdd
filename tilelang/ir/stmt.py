"""Statements. Each carries the span of the user's source line it came from."""
from __future__ import annotations

import dataclasses
import math

from ..errors import Span
from . import expr as E
from .printer import stmt_to_str

_node = dataclasses.dataclass(frozen=True, eq=False, slots=True, repr=False)


@_node
class Stmt:
    span: Span | None = dataclasses.field(default=None, kw_only=True, compare=False)

    def __repr__(self) -> str:
        return stmt_to_str(self)


@_node
class SeqStmt(Stmt):
    stmts: tuple


@_node
class Evaluate(Stmt):
    """Evaluate an expression for its effect (barriers, prints, intrinsics)."""

    value: E.Expr


@_node
class BufferStore(Stmt):
    buffer: object
    indices: tuple
    value: E.Expr


@_node
class IfThenElse(Stmt):
    condition: E.Expr
    then_body: Stmt
    else_body: Stmt | None = None


@_node
class LetStmt(Stmt):
    """Bind `var` to `value` within `body` (passes use it to name hoisted index math)."""

    var: E.Var
    value: E.Expr
    body: Stmt


FOR_KINDS = ("serial", "parallel", "pipelined", "unroll", "vectorized", "thread")


@_node
class For(Stmt):
    """`for var in range(min, min + extent * step, step)` of a kind in FOR_KINDS.

    annotations: pipelined loops carry num_stages / order / stage / group; `thread` loops
    (T.thread_binding) carry the tag ('threadIdx.x').
    """

    var: E.Var
    min: E.Expr
    extent: E.Expr
    kind: str
    body: Stmt
    step: E.Expr = dataclasses.field(default_factory=lambda: E.const(1))
    annotations: dict = dataclasses.field(default_factory=dict)


@_node
class While(Stmt):
    condition: E.Expr
    body: Stmt


@_node
class KernelLaunch(Stmt):
    """`with T.Kernel(*grid, threads=...) as (bx, ...)`: a grid of thread blocks.

    block_vars bind to blockIdx.x/y/z (the first grid extent to x); thread_vars to
    threadIdx.x/y/z. `allocations` are the buffers allocated in the kernel body.
    """

    grid: tuple
    threads: tuple
    block_vars: tuple
    thread_vars: tuple
    body: Stmt
    allocations: tuple = ()
    annotations: dict = dataclasses.field(default_factory=dict)

    @property
    def num_threads(self) -> int:
        return math.prod(self.threads)


WARP_GROUP_SIZE = 128


@_node
class WarpSpecialize(Stmt):
    """`with T.ws(g0, g1, ...)`: body runs on the threads of warp groups g (128 threads each)."""

    warp_groups: tuple
    body: Stmt


def seq(stmts) -> Stmt:
    """Flatten a list of statements into one (a single stmt stays itself)."""
    flat = []
    for s in stmts:
        if s is None:
            continue
        if isinstance(s, SeqStmt):
            flat.extend(s.stmts)
        else:
            flat.append(s)
    if len(flat) == 1:
        return flat[0]
    return SeqStmt(tuple(flat))
