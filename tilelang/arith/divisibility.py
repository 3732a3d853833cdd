"""Divisibility of integer expressions: which vector widths an index can take."""
from __future__ import annotations

from ..ir import expr as E
from .simplify import linear_form, simplify


def divisible(e, v: int) -> bool:
    """Whether integer expression e is a multiple of v for all values of its variables."""
    if v == 1:
        return True
    if isinstance(e, int):
        return e % v == 0
    terms, c = linear_form(simplify(e))
    if c % v:
        return False
    for atom, coeff in terms:
        if coeff % v == 0:
            continue
        if isinstance(atom, E.Binary) and atom.op == "*" and isinstance(atom.b, E.IntImm) and (coeff * atom.b.value) % v == 0:
            continue
        return False
    return True


def vector_width(widest: int, multiples) -> int:
    """The widest vector, halving from `widest` (a power of two), that divides every one of
    `multiples` (ints or expressions: extents, row lengths, offsets of the first element)."""
    w = widest
    while w > 1 and not all(divisible(m, w) for m in multiples):
        w //= 2
    return max(w, 1)
