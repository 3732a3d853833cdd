"""Tile operands: buffers, regions and points (DESIGN.md rule 1).

A scalar-indexed operand (`A[by * BM, k * BK]`) is the origin of a box whose extents come
from the other operand, right-aligned; extra leading dims get extent 1.
"""
from __future__ import annotations

from ..arith import simplify
from ..errors import TileLangTypeError, TileLangValueError
from ..ir import expr as E
from ..ir.buffer import Buffer, BufferRegion, Range
from ..ir.structural import structural_key


def as_operand(x, fn: str, what: str):
    """A BufferRegion, or a BufferLoad standing for a point whose box is not known yet."""
    if isinstance(x, Buffer):
        return BufferRegion.full(x)
    if isinstance(x, BufferRegion):
        # slicing leaves `stop - start` as the expression builder folds it; simplify here
        return BufferRegion(x.buffer, tuple(Range(r.min, simplify(r.extent)) for r in x.region))
    if isinstance(x, E.BufferLoad):
        return x
    raise TileLangTypeError(f"{fn}: {what} must be a buffer, a region (A[i:j, ...]) or a point (A[i, j]), "
                            f"got {type(x).__name__} {x!r}")


def as_region(x, fn: str, what: str) -> BufferRegion:
    r = as_operand(x, fn, what)
    if isinstance(r, E.BufferLoad):
        return BufferRegion(r.buffer, tuple(Range(i, E.const(1)) for i in r.indices))
    return r


def point_region(load: E.BufferLoad, extents) -> BufferRegion:
    """Expand a point to a box with the given extents, right-aligned over its dims."""
    n, m = len(load.indices), len(extents)
    extents = list(extents)
    while m > n and E.is_const(extents[0], 1):
        extents.pop(0)
        m -= 1
    if m > n:
        raise TileLangValueError(
            f"the point {load!r} has {n} dims but the other operand's box has {m} non-unit leading dims")
    full = [E.const(1)] * (n - m) + extents
    return BufferRegion(load.buffer, tuple(Range(i, e) for i, e in zip(load.indices, full)))


def pair(src, dst, fn: str):
    """Both operands as regions, points expanded from the other side."""
    src, dst = as_operand(src, fn, "source"), as_operand(dst, fn, "destination")
    if isinstance(src, E.BufferLoad) and isinstance(dst, E.BufferLoad):
        src, dst = as_region(src, fn, "source"), as_region(dst, fn, "destination")
    elif isinstance(src, E.BufferLoad):
        src = point_region(src, dst.extents)
    elif isinstance(dst, E.BufferLoad):
        dst = point_region(dst, src.extents)
    return src, dst


def squeeze(extents) -> list:
    """Extents without unit dims, simplified."""
    return [simplify(e) for e in extents if not E.is_const(simplify(e), 1)]


def same_extent(a, b) -> bool:
    a, b = simplify(a), simplify(b)
    if isinstance(a, E.IntImm) and isinstance(b, E.IntImm):
        return a.value == b.value
    return structural_key(a) == structural_key(b)


def check_same_shape(a: BufferRegion, b: BufferRegion, fn: str) -> None:
    sa, sb = squeeze(a.extents), squeeze(b.extents)
    if len(sa) != len(sb) or not all(same_extent(x, y) for x, y in zip(sa, sb)):
        raise TileLangValueError(
            f"{fn}: the shapes do not match: {a!r} is {_shape(a.extents)} but {b!r} is {_shape(b.extents)}")


def _shape(extents) -> str:
    return "(" + ", ".join(repr(simplify(e)) for e in extents) + ")"
