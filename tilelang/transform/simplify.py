"""simplify: canonicalize integer index math and fold constant branches and empty loops.

Before/after: any IR; the meaning is unchanged.
"""
from __future__ import annotations

from ..arith import simplify as simplify_expr
from ..ir import expr as E
from ..ir import stmt as S
from ..ir.function import PrimFunc
from ..ir.visitor import Mutator
from ..arith.simplify import _Simplifier
from ..arith.bounds import bounds
from ..ir.structural import structural_key


class _Simplify(Mutator):
    """Also folds division / modulo / shifts / masks by constants where the var ranges prove
    the split exact: (c*q + r) // c -> q and % c -> r for 0 <= r < c, and y // c * c + y % c -> y."""

    def __init__(self):
        self.ranges = {}

    def visit_KernelLaunch(self, k):
        for v, n in list(zip(k.block_vars, k.grid)) + list(zip(k.thread_vars, k.threads)):
            self.ranges[v] = (0, int(n) - 1) if isinstance(n, (int, E.IntImm)) else (0, None)
        return self.generic_visit(k)

    def visit_Binary(self, e):
        e = self.generic_visit(e)
        if not e.dtype.is_int or e.dtype.is_bool:
            return e
        e = simplify_expr(e)
        return _merge_div_mod(_split_div_mod(e, self.ranges))

    def visit_IfThenElse(self, s):
        s = self.generic_visit(s)
        if isinstance(s.condition, E.IntImm):
            return s.then_body if s.condition.value else (s.else_body or S.SeqStmt(()))
        return s

    def visit_For(self, s):
        static = isinstance(s.min, E.IntImm) and isinstance(s.extent, E.IntImm) and E.is_const(s.step, 1)
        if static:
            self.ranges[s.var] = (s.min.value, s.min.value + s.extent.value - 1)
        s = self.generic_visit(s)
        if static:
            self.ranges.pop(s.var, None)
        if isinstance(s.extent, E.IntImm) and s.extent.value <= 0:
            return S.SeqStmt(())
        return s

    def visit_SeqStmt(self, s):
        new = self.generic_visit(s)
        stmts = []
        for x in new.stmts:
            if isinstance(x, S.SeqStmt):
                stmts.extend(x.stmts)
            else:
                stmts.append(x)
        if len(stmts) == len(s.stmts) and all(a is b for a, b in zip(stmts, s.stmts)):
            return s
        return S.SeqStmt(tuple(stmts), span=s.span)


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


def _split_div_mod(e, ranges):
    """(c*q + r) // c -> q, % c -> r, when the var ranges put r in [0, c)."""

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


def _merge_div_mod(e):
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


def simplify(func: PrimFunc, ctx=None) -> PrimFunc:
    """Canonical integer expressions (arith.simplify), constant ifs folded, empty loops dropped."""
    body = _Simplify().visit(func.body)
    return func if body is func.body else func.with_body(body)
