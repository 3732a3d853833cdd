"""simplify: canonicalize integer index math and fold constant branches and empty loops.

Before/after: any IR; the meaning is unchanged.
"""
from __future__ import annotations

from ..arith import merge_div_mod, simplify as simplify_expr, split_div_mod
from ..ir import expr as E
from ..ir import stmt as S
from ..ir.function import PrimFunc
from ..ir.visitor import Mutator


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
        return merge_div_mod(split_div_mod(e, self.ranges))

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


def simplify(func: PrimFunc, ctx=None) -> PrimFunc:
    """Canonical integer expressions (arith.simplify), constant ifs folded, empty loops dropped."""
    body = _Simplify().visit(func.body)
    return func if body is func.body else func.with_body(body)
