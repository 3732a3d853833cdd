"""simplify: canonicalize integer index math and fold constant branches and empty loops.

Before/after: any IR; the meaning is unchanged.
"""
from __future__ import annotations

from ..arith import simplify as simplify_expr
from ..ir import expr as E
from ..ir import stmt as S
from ..ir.function import PrimFunc
from ..ir.visitor import Mutator


class _Simplify(Mutator):
    def visit_Binary(self, e):
        return simplify_expr(self.generic_visit(e)) if e.dtype.is_int else self.generic_visit(e)

    def visit_IfThenElse(self, s):
        s = self.generic_visit(s)
        if isinstance(s.condition, E.IntImm):
            return s.then_body if s.condition.value else (s.else_body or S.SeqStmt(()))
        return s

    def visit_For(self, s):
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
