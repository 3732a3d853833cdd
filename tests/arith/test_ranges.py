"""arith/ranges.py: the variable-range scope seeded from the launch, extended by loops and lets,
narrowed by branch conditions."""
from tilelang.arith import VarRanges
from tilelang.arith.ranges import facts
from tilelang.ir import expr as E
from tilelang.ir import stmt as S
from tilelang.ir.dtypes import int32

bx, tx, k, n = (E.Var(int32, name) for name in ("bx", "tx", "k", "n"))


def _launch(grid=(16,), threads=(256,)):
    return S.KernelLaunch(grid, threads, (bx,), (tx,), S.SeqStmt(()))


def test_launch_seeds_block_and_thread_vars_and_sizes_are_non_negative():
    r = VarRanges(sizes=(n,))
    r.enter_launch(_launch())
    assert r.get(bx) == (0, 15) and r.get(tx) == (0, 255) and r.get(n) == (0, None)
    r.enter_launch(S.KernelLaunch((n,), (128,), (bx,), (tx,), S.SeqStmt(())))
    assert r.get(bx) == (0, None)  # a symbolic grid: only non-negative
    assert r.get(k) == (None, None) and k not in r


def test_loops_and_lets():
    r = VarRanges()
    r.enter_launch(_launch())
    r.enter_loop(S.For(k, E.const(0), E.const(8), "serial", S.SeqStmt(())))
    assert r.get(k) == (0, 7)
    i = E.Var(int32, "i")
    r.enter_loop(S.For(i, bx * 4, E.const(4), "serial", S.SeqStmt(())))
    assert r.get(i) == (0, 63)
    r.enter_loop(S.For(i, E.const(2), n, "serial", S.SeqStmt(()), E.const(3)))
    assert r.get(i) == (2, None)  # strided: the start only
    j = E.Var(int32, "j")
    r.enter_let(j, tx * 2 + k)
    assert r.get(j) == (0, 517)
    assert r.bounds(j // 2) == (0, 258) and r.nonneg(j - k + 7) and not r.nonneg(j - k) and r.upper(tx % 32) == 31


def test_branch_conditions_narrow_inside_a_scope_only():
    r = VarRanges()
    r.enter_launch(_launch())
    with r.scope():
        r.assume(E.binary("and", tx >= 128, tx + 4 < 200))
        assert r.get(tx) == (128, 195)
        assert r.nonneg(tx - 128)
        r.bind(k, 0, 3)
    assert r.get(tx) == (0, 255) and k not in r
    r.narrow(tx, None, 1000)
    assert r.get(tx) == (0, 255)  # a looser bound changes nothing


def test_facts_of_conditions():
    assert facts(tx < 64) == {tx: (None, 63)}
    assert facts(tx - 128 >= 0) == {tx: (128, None)}
    assert facts(E.binary("and", tx > 3, tx <= 9)) == {tx: (4, 9)}
    assert facts(tx * 2 < 64) == {}  # only unit coefficients
    assert facts(tx + k < 64) == {}
    assert facts(tx < n) == {}
