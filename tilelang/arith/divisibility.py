"""Divisibility of integer expressions: which vector widths an index can take."""
from __future__ import annotations

from ..ir import expr as E
from .simplify import _Simplifier, simplify


def divisible(e, v: int) -> bool:
    """Whether integer expression e is a multiple of v for all values of its variables."""
    if v == 1:
        return True
    simp = _Simplifier()
    e = simplify(e)
    terms, c = simp.linear(e)
    if c % v:
        return False
    for key, coeff in terms.items():
        if coeff % v == 0:
            continue
        atom = simp.atoms[key]
        if isinstance(atom, E.Binary) and atom.op == "*" and isinstance(atom.b, E.IntImm) and (coeff * atom.b.value) % v == 0:
            continue
        return False
    return True
