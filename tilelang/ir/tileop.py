"""Tile operators: block-level statements over buffer regions.

Each op names the regions it reads and writes (`reads()`, `writes()`), which is all that the
generic analyses (hazards, pipelining, liveness) need to know about it. Per-op behaviour
(layout rules, lowering, CPU evaluation) lives in dispatch tables in those layers, keyed by
the op's class.
"""
from __future__ import annotations

import dataclasses

from . import expr as E
from .buffer import BufferRegion
from .stmt import Stmt

_node = dataclasses.dataclass(frozen=True, eq=False, slots=True, repr=False)


@_node
class TileOp(Stmt):
    def reads(self) -> tuple:
        return ()

    def writes(self) -> tuple:
        return ()


@_node
class Copy(TileOp):
    """Copy a box between any two scopes, casting; out-of-bounds global reads give 0 and
    out-of-bounds global writes are dropped. `src` and `dst` have the same number of
    elements; unit dimensions may differ."""

    src: BufferRegion
    dst: BufferRegion
    annotations: dict = dataclasses.field(default_factory=dict)

    def reads(self): return (self.src,)
    def writes(self): return (self.dst,)


@_node
class Fill(TileOp):
    dst: BufferRegion
    value: E.Expr

    def writes(self): return (self.dst,)


GEMM_POLICIES = ("Square", "FullRow", "FullCol")


@_node
class Gemm(TileOp):
    """C += op(A) @ op(B) on whole tiles (C = ... when clear_accum)."""

    a: BufferRegion
    b: BufferRegion
    c: BufferRegion
    transpose_a: bool = False
    transpose_b: bool = False
    policy: str = "Square"
    clear_accum: bool = False
    k_pack: int = 1
    wg_wait: int = 0

    def reads(self):
        return (self.a, self.b) + (() if self.clear_accum else (self.c,))

    def writes(self):
        return (self.c,)


REDUCE_KINDS = ("sum", "max", "min", "abssum", "absmax")


@_node
class Reduce(TileOp):
    """dst = reduce(src, dim) (combined with dst's old value unless clear); an all-reduce:
    every thread holding a row holds its result."""

    kind: str
    src: BufferRegion
    dst: BufferRegion
    dim: int
    clear: bool = True

    def reads(self): return (self.src,) if self.clear else (self.src, self.dst)
    def writes(self): return (self.dst,)


@_node
class CumSum(TileOp):
    src: BufferRegion
    dst: BufferRegion
    dim: int
    reverse: bool = False

    def reads(self): return (self.src,)
    def writes(self): return (self.dst,)


ATOMIC_OPS = ("add", "max", "min")


@_node
class AtomicRegion(TileOp):
    """Element-wise atomic `dst op= src` over a tile (T.atomic_add(dst_tile, src_tile))."""

    op: str
    dst: BufferRegion
    src: BufferRegion | E.Expr

    def reads(self): return (self.dst, self.src) if isinstance(self.src, BufferRegion) else (self.dst,)
    def writes(self): return (self.dst,)


@_node
class Atomic(Stmt):
    """Scalar atomic `buffer[indices] op= value`, executed by every thread that reaches it."""

    op: str
    buffer: object
    indices: tuple
    value: E.Expr


@_node
class TmaCopy(TileOp):
    """Bulk tensor copy global -> shared completing on `barrier` (expect_tx, no arrive)."""

    src: BufferRegion
    dst: BufferRegion
    barrier: E.BufferLoad | None = None

    def reads(self): return (self.src,)
    def writes(self): return (self.dst,)


@_node
class Print(TileOp):
    """T.print: a scalar (by every thread that reaches it) or a whole buffer region (once per block)."""

    value: E.Expr | BufferRegion
    msg: str = ""

    def reads(self): return (self.value,) if isinstance(self.value, BufferRegion) else ()


@_node
class DeviceAssert(Stmt):
    condition: E.Expr
    msg: str = ""
