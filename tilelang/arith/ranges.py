"""VarRanges: the intervals of the integer variables in scope at one point of the IR.

Seeded from the kernel launch (block / thread vars in [0, extent), symbolic sizes >= 0),
extended by loops and lets, narrowed by branch conditions (`var + c < n` and the like). The
one range scope of simplify, the CUDA lowering (LowerContext.ranges) and codegen; `bounds`,
`nonneg` and `upper` of an expression under it come from arith/bounds.py.
"""
from __future__ import annotations

import contextlib

from ..ir import expr as E
from .bounds import bounds
from .simplify import linear_form

_UNKNOWN = (None, None)


class VarRanges:
    """Var -> (lo, hi) inclusive, either end None when unknown."""

    def __init__(self, intervals=None, sizes=()):
        self._intervals = dict(intervals or {})
        for v in sizes:
            self._intervals[v] = (0, None)

    def get(self, var, default=_UNKNOWN):
        return self._intervals.get(var, default)

    def __contains__(self, var) -> bool:
        return var in self._intervals

    def __repr__(self) -> str:
        return "VarRanges({" + ", ".join(f"{v!r}: {iv}" for v, iv in self._intervals.items()) + "})"

    # -- extending the scope ----------------------------------------------------------------
    def bind(self, var, lo, hi) -> None:
        """`var` takes values in [lo, hi] from here on (replacing what was known)."""
        self._intervals[var] = (lo, hi)

    def forget(self, var) -> None:
        self._intervals.pop(var, None)

    def enter_launch(self, launch) -> None:
        """Block and thread vars of a KernelLaunch: [0, extent - 1] (extent unknown: >= 0)."""
        for v, n in list(zip(launch.block_vars, launch.grid)) + list(zip(launch.thread_vars, launch.threads)):
            self.bind(v, 0, int(n) - 1 if isinstance(n, (int, E.IntImm)) else None)

    def enter_loop(self, loop) -> None:
        """A For's var: from its start, up to start + extent - 1 with unit steps (any positive
        step: only the lower end is known; a step of unknown sign: nothing)."""
        if not self.nonneg(loop.step):
            return
        lo, _ = self.bounds(loop.min)
        _, hi = self.bounds(loop.min + loop.extent - 1) if E.is_const(loop.step, 1) else _UNKNOWN
        self.bind(loop.var, lo, hi)

    def enter_let(self, var, value) -> None:
        self.bind(var, *self.bounds(value))

    def narrow(self, var, lo, hi) -> None:
        """Intersect var's interval with [lo, hi]."""
        olo, ohi = self.get(var)
        self.bind(var, _tighter(lo, olo, max), _tighter(hi, ohi, min))

    def assume(self, cond) -> None:
        """Narrow by what holds where `cond` is true."""
        for v, (lo, hi) in facts(cond).items():
            self.narrow(v, lo, hi)

    @contextlib.contextmanager
    def scope(self):
        """Everything bound or narrowed inside the `with` is undone at its end."""
        saved = dict(self._intervals)
        try:
            yield self
        finally:
            self._intervals = saved

    # -- questions --------------------------------------------------------------------------
    def bounds(self, e) -> tuple:
        return bounds(e, self)

    def nonneg(self, e) -> bool:
        lo, _ = self.bounds(e)
        return lo is not None and lo >= 0

    def upper(self, e):
        return self.bounds(e)[1]


def facts(cond) -> dict:
    """{var: (lo, hi)} implied by a conjunction of `var + c <op> constant` comparisons."""
    out = {}
    if isinstance(cond, E.Binary) and cond.op == "and":
        for part in (cond.a, cond.b):
            for v, (lo, hi) in facts(part).items():
                olo, ohi = out.get(v, _UNKNOWN)
                out[v] = (_tighter(lo, olo, max), _tighter(hi, ohi, min))
        return out
    if not (isinstance(cond, E.Binary) and cond.op in ("<", "<=", ">", ">=") and isinstance(cond.b, E.IntImm)):
        return out
    terms, const = linear_form(cond.a)
    if len(terms) != 1:
        return out
    (var, coeff), = terms
    if not isinstance(var, E.Var) or coeff != 1:
        return out
    bound = cond.b.value - const
    return {var: {"<": (None, bound - 1), "<=": (None, bound), ">": (bound + 1, None), ">=": (bound, None)}[cond.op]}


def _tighter(a, b, pick):
    """The tighter of two ends (pick: max for lower ends, min for upper), None being unknown."""
    if a is None:
        return b
    if b is None:
        return a
    return pick(a, b)
