"""Constant intervals of integer index expressions, from the ranges of the variables in them.

`bounds(e, ranges)` -> (lo, hi), inclusive, either side None when unknown. `ranges` maps a Var
to (lo, hi). Used to leave out provably true bound checks (lowering) and to print C++ `/`, `%`
where the operands are provably non-negative (codegen). `//` and `%` are the IR's floor ops.
"""
from __future__ import annotations

from ..ir import expr as E


def bounds(e, ranges: dict) -> tuple:
    if isinstance(e, E.IntImm):
        return (int(e.value), int(e.value))
    if isinstance(e, E.Var):
        return ranges.get(e, (None, None))
    if isinstance(e, E.Cast):
        return bounds(e.value, ranges) if e.value.dtype.is_int else (None, None)
    if isinstance(e, E.BufferLoad):
        return (0, None) if e.dtype.is_int and not e.dtype.is_signed else (None, None)
    if isinstance(e, E.Select):
        (a, b), (c, d) = bounds(e.true_value, ranges), bounds(e.false_value, ranges)
        return (_min(a, c), _max(b, d))
    if not isinstance(e, E.Binary) or not e.dtype.is_int:
        return (None, None)
    (alo, ahi), (blo, bhi) = bounds(e.a, ranges), bounds(e.b, ranges)
    op = e.op
    if op == "+":
        return (_add(alo, blo), _add(ahi, bhi))
    if op == "-":
        return (_sub(alo, bhi), _sub(ahi, blo))
    if op == "*":
        ends = [x * y for x in (alo, ahi) for y in (blo, bhi) if x is not None and y is not None]
        if len(ends) == 4:
            return (min(ends), max(ends))
        if alo is not None and alo >= 0 and blo is not None and blo >= 0:
            return (alo * blo, None)
        return (None, None)
    if op == "//":
        if blo is not None and blo == bhi and blo > 0:
            return (None if alo is None else alo // blo, None if ahi is None else ahi // blo)
        if alo is not None and alo >= 0 and blo is not None and blo > 0:
            return (0, None if ahi is None else ahi // blo)
        return (None, None)
    if op == "%":
        if blo is not None and blo > 0:
            hi = bhi - 1 if bhi is not None else None
            if alo is not None and alo >= 0 and ahi is not None and (hi is None or ahi < hi):
                hi = ahi
            return (0, hi)
        return (None, None)
    if op == "min":
        return (_min(alo, blo), _min2(ahi, bhi))
    if op == "max":
        return (_max2(alo, blo), _max(ahi, bhi))
    nonneg = alo is not None and alo >= 0 and blo is not None and blo >= 0
    if op == "&" and nonneg:
        return (0, _min2(ahi, bhi))
    if op == "&" and blo is not None and blo == bhi and blo >= 0:
        return (0, blo)  # a non-negative mask bounds the result whatever the other side
    if op == ">>" and nonneg and blo == bhi:
        return (alo >> blo, None if ahi is None else ahi >> blo)
    if op == "<<" and nonneg and blo == bhi:
        return (alo << blo, None if ahi is None else ahi << blo)
    if op in ("|", "^") and nonneg:
        return (0, None if ahi is None or bhi is None else (1 << max(ahi, bhi, 1).bit_length()) - 1)
    return (None, None)


def nonneg(e, ranges: dict) -> bool:
    lo, _ = bounds(e, ranges)
    return lo is not None and lo >= 0


def upper(e, ranges: dict):
    return bounds(e, ranges)[1]


def _add(a, b):
    return None if a is None or b is None else a + b


def _sub(a, b):
    return None if a is None or b is None else a - b


def _min(a, b):
    """Lower end of a union / min: unknown if either is."""
    return None if a is None or b is None else min(a, b)


def _max(a, b):
    return None if a is None or b is None else max(a, b)


def _min2(a, b):
    """Upper end of min(a, b): the known one suffices."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _max2(a, b):
    """Lower end of max(a, b): the known one suffices."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
