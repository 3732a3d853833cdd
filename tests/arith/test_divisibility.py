"""arith/divisibility.py: multiples of a width, and the widest vector that divides every offset."""
from tilelang.arith import divisible, vector_width
from tilelang.ir import expr as E
from tilelang.ir.dtypes import int32

tx, k, n = (E.Var(int32, name) for name in ("tx", "k", "n"))


def test_divisible():
    assert divisible(tx * 8 + k * 64 + 16, 8) and not divisible(tx * 8 + 4, 8)
    assert divisible(tx * 4 * 2, 8)  # a constant factor inside an atom counts
    assert not divisible(n, 2) and divisible(n * 64, 16) and divisible(48, 16) and not divisible(E.const(12), 8)


def test_vector_width_halves_until_every_multiple_divides():
    assert vector_width(8, (64, tx * 8)) == 8
    assert vector_width(8, (64, tx * 4)) == 4
    assert vector_width(8, (E.const(6), tx * 8)) == 2
    assert vector_width(16, (n * 64, k * 32 + 8)) == 8
    assert vector_width(8, (n,)) == 1 and vector_width(4, ()) == 4
