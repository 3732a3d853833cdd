"""Canonical simplification of integer index expressions.

Integer sums are rewritten as `sum(coeff * atom) + const` with atoms ordered by first
appearance, so `(by + 1) * 64 - by * 64` becomes `64`. Non-linear parts (division,
modulo, calls, loads) are simplified inside and kept as atoms. `linear_form` gives that sum;
`split_div_mod` (given var ranges) and `merge_div_mod` fold division / modulo pairs.
"""
from __future__ import annotations

from ..ir import expr as E
from ..ir.structural import structural_key
from .bounds import bounds


def simplify(e):
    """Return an equivalent, canonical expression (ints and non-Expr values pass through)."""
    if not isinstance(e, E.Expr):
        return e
    return _Simplifier().run(e)


def linear_form(e) -> tuple:
    """`e` as sum(coeff * atom) + const: (((atom, coeff), ...) in order of first appearance, const)."""
    simp = _Simplifier()
    terms, const = simp.linear(e)
    return tuple((simp.atoms[k], v) for k, v in terms.items()), const


class _Simplifier:
    def __init__(self):
        self.atoms: dict = {}  # structural key -> atom expr, in order of appearance

    def run(self, e):
        if e.dtype.is_int and not e.dtype.is_bool:
            terms, c = self.linear(e)
            return self.rebuild(terms, c, e.dtype)
        return self.inner(e)

    # -- linear form ------------------------------------------------------------------
    def linear(self, e):
        """(dict atom_key -> coeff, const) for an integer expression."""
        if isinstance(e, E.IntImm):
            return {}, e.value
        if isinstance(e, E.Binary) and e.op in ("+", "-"):
            ta, ca = self.linear(e.a)
            tb, cb = self.linear(e.b)
            sign = 1 if e.op == "+" else -1
            out = dict(ta)
            for k, v in tb.items():
                out[k] = out.get(k, 0) + sign * v
            return {k: v for k, v in out.items() if v}, ca + sign * cb
        if isinstance(e, E.Binary) and e.op == "*":
            ta, ca = self.linear(e.a)
            tb, cb = self.linear(e.b)
            if not ta:
                return {k: v * ca for k, v in tb.items() if v * ca}, ca * cb
            if not tb:
                return {k: v * cb for k, v in ta.items() if v * cb}, ca * cb
        if isinstance(e, E.Unary) and e.op == "-":
            t, c = self.linear(e.a)
            return {k: -v for k, v in t.items()}, -c
        atom = self.inner(e)
        if isinstance(atom, E.IntImm):
            return {}, atom.value
        return {self.key(atom): 1}, 0

    def key(self, atom):

        k = structural_key(atom)
        self.atoms.setdefault(k, atom)
        return k

    def rebuild(self, terms, c, dtype):
        result = None
        for k, coeff in terms.items():
            atom = self.atoms[k]
            if atom.dtype != dtype:
                atom = E.cast(atom, dtype)
            term = atom if coeff == 1 else (E.unary("-", atom) if coeff == -1 else E.binary("*", atom, E.const(coeff, dtype)))
            if result is None:
                result = term
            elif coeff < 0 and coeff != -1:
                result = E.binary("-", result, E.binary("*", atom, E.const(-coeff, dtype)))
            elif coeff == -1:
                result = E.binary("-", result, atom)
            else:
                result = E.binary("+", result, term)
        if result is None:
            return E.const(c, dtype)
        if c > 0:
            return E.binary("+", result, E.const(c, dtype))
        if c < 0:
            return E.binary("-", result, E.const(-c, dtype))
        return result

    # -- inside non-linear nodes ---------------------------------------------------------
    def inner(self, e):
        if isinstance(e, E.Binary):
            a, b = self.run(e.a), self.run(e.b)
            if e.op in ("//", "%") and isinstance(b, E.IntImm) and b.value > 0:
                folded = _div_mod_linear(e.op, a, b.value, self)
                if folded is not None:
                    return folded
            if a is e.a and b is e.b:
                return e
            return E.binary(e.op, a, b)
        if isinstance(e, E.Unary):
            a = self.run(e.a)
            return e if a is e.a else E.unary(e.op, a)
        if isinstance(e, E.Cast):
            v = self.run(e.value)
            return e if v is e.value else E.cast(v, e.dtype)
        if isinstance(e, E.Select):
            c, t, f = self.run(e.cond), self.run(e.true_value), self.run(e.false_value)
            return E.select(c, t, f)
        return e


def _div_mod_linear(op, a, d, simp):
    """Split a linear a = d*q + r + c (q: the terms whose coefficients are multiples of d) so
    that floor division and modulo keep only what they need:
        (d*q + r + c) // d = q + c // d + (r + c % d) // d
        (d*q + r + c) %  d = (r + c % d) % d
    Both hold exactly for floor semantics; with no r they fold to constants."""
    if not (a.dtype.is_int and not a.dtype.is_bool):
        return None
    terms, c = simp.linear(a)
    if not terms:
        return None
    multiple = {k: v // d for k, v in terms.items() if v % d == 0}
    rest = {k: v for k, v in terms.items() if v % d}
    if not multiple and 0 <= c < d:
        return None  # nothing to take out
    dtype = a.dtype
    if not rest:
        if op == "%":
            return E.const(c % d, dtype)
        return simp.rebuild(multiple, c // d, dtype)
    inner = E.binary(op, simp.rebuild(rest, c % d, dtype), E.const(d, dtype))
    if op == "%":
        return inner
    outer = simp.rebuild(multiple, c // d, dtype)
    if E.is_const(outer, 0):
        return inner
    return simp.run(E.binary("+", outer, inner))


def _divisor(e):
    """(c, quotient?) for `a // c`, `a >> k` (c = 2^k), `a % c`, `a & (c - 1)` with c a positive constant."""
    if not (isinstance(e, E.Binary) and isinstance(e.b, E.IntImm)):
        return None
    b = e.b.value
    if e.op == "//" and b > 0:
        return b, True
    if e.op == ">>" and 0 <= b < 31:
        return 1 << b, True
    if e.op == "%" and b > 0:
        return b, False
    if e.op == "&" and b >= 0 and (b + 1) & b == 0:
        return b + 1, False
    return None


def split_div_mod(e, ranges):
    """(c*q + r) // c -> q, % c -> r (also >> and & for powers of two), when `ranges` (Var ->
    (lo, hi): a dict or arith.ranges.VarRanges) put r in [0, c)."""
    div = _divisor(e)
    if div is None or not e.a.dtype.is_int:
        return e
    c, quotient = div
    simp = _Simplifier()
    terms, const = simp.linear(e.a)
    q_terms = {k: v // c for k, v in terms.items() if v % c == 0}
    r_terms = {k: v for k, v in terms.items() if v % c}
    if not q_terms and const // c == 0 and not quotient:
        rest = e.a
    else:
        rest = simp.rebuild(r_terms, const % c, e.a.dtype)
    lo, hi = bounds(rest, ranges)
    if lo is None or hi is None or lo < 0 or hi >= c:
        return e
    if quotient:
        return simp.rebuild(q_terms, const // c, e.dtype)
    return rest if rest.dtype == e.dtype else E.cast(rest, e.dtype)


def merge_div_mod(e):
    """In a sum, y // c * (k*c) + y % c * k -> y * k (also with >> and & for powers of two)."""
    if not (isinstance(e, E.Binary) and e.op in ("+", "-")):
        return e
    simp = _Simplifier()
    terms, const = simp.linear(e)
    parts = {}
    for key, coeff in terms.items():
        atom = simp.atoms[key]
        div = _divisor(atom)
        if div is not None:
            parts.setdefault((structural_key(atom.a), div[0]), {})[div[1]] = (key, coeff, atom.a)
    changed = False
    for (_, c), both in parts.items():
        if True in both and False in both:
            (qk, qc, y), (rk, rc, _) = both[True], both[False]
            if qc == rc * c and qk in terms and rk in terms:
                del terms[qk], terms[rk]
                y_terms, y_const = simp.linear(y)
                for k2, v2 in y_terms.items():
                    terms[k2] = terms.get(k2, 0) + v2 * rc
                const += y_const * rc
                changed = True
    if not changed:
        return e
    return simp.rebuild({k: v for k, v in terms.items() if v}, const, e.dtype)
