"""Striped: the loop plan when no fragment decides (flat iteration f on thread f % T)."""
import itertools

from tilelang.arith import simplify
from tilelang.ir import expr as E
from tilelang.ir.dtypes import int32
from tilelang.ir.visitor import substitute
from tilelang.layout import Striped


def test_round_trip_and_partial_last_round():
    plan = Striped((3, 10), 8)
    assert plan.num_registers == 4 and plan.total == 30 and not plan.covers_exactly()
    seen = set()
    for idx in itertools.product(range(3), range(10)):
        t, r = plan.thread(*idx), plan.register(*idx)
        assert 0 <= t < 8 and 0 <= r < 4 and (t, r) not in seen and plan.covers(t, r)
        seen.add((t, r))
        assert plan.logical(t, r) == idx
    holes = [(t, r) for t in range(8) for r in range(4) if (t, r) not in seen]
    assert holes == [(t, 3) for t in range(6, 8)] and not any(plan.covers(t, r) for t, r in holes)


def test_consecutive_iterations_on_consecutive_threads():
    plan = Striped((4, 32), 128)
    assert plan.covers_exactly() and plan.num_registers == 1
    assert [plan.thread(0, j) for j in range(4)] == [0, 1, 2, 3] and plan.thread(1, 0) == 32


def test_symbolic_extents():
    n = E.Var(int32, "n")
    plan = Striped((n, E.const(64)), 128)
    assert not plan.static and not plan.covers_exactly()
    assert repr(plan.total) == "n * 64"
    tx, r = E.Var(int32, "tx"), E.Var(int32, "r")
    row, col = plan.logical(tx, r)
    env = {tx: E.const(5), r: E.const(3)}
    assert simplify(substitute(row, env)).value == (3 * 128 + 5) // 64
    assert simplify(substitute(col, env)).value == (3 * 128 + 5) % 64
