"""simplify: canonicalize integer index math and fold constant branches and empty loops.

Before/after: any IR; the meaning is unchanged.
"""
from __future__ import annotations

from ..arith import VarRanges, merge_div_mod, simplify as simplify_expr, split_div_mod
from ..ir import expr as E
from ..ir import stmt as S
from ..ir.function import PrimFunc
from ..ir.visitor import Mutator


class _Simplify(Mutator):
    """Also folds division / modulo / shifts / masks by constants where the var ranges prove
    the split exact: (c*q + r) // c -> q and % c -> r for 0 <= r < c, and y // c * c + y % c -> y."""

    def __init__(self):
        self.ranges = VarRanges()

    def visit_KernelLaunch(self, k):
        self.ranges.enter_launch(k)
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
        # constant loops only (codegen binds every loop): the others would change the code we emit
        static = isinstance(s.min, E.IntImm) and isinstance(s.extent, E.IntImm) and E.is_const(s.step, 1)
        with self.ranges.scope():
            if static:
                self.ranges.enter_loop(s)
            s = self.generic_visit(s)
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
