"""Integer index simplification: canonical sums and exact floor division / modulo folding."""
import itertools

from tilelang.arith import merge_div_mod, simplify, split_div_mod
from tilelang.ir import dtypes
from tilelang.ir import expr as E
from tilelang.ir.visitor import substitute

tx = E.Var(dtypes.int32, "tx")
k = E.Var(dtypes.int32, "k")


def value(e, **env):
    vars_ = {"tx": tx, "k": k}
    out = simplify(substitute(e, {vars_[n]: E.const(v) for n, v in env.items()}))
    assert isinstance(out, E.IntImm), out
    return out.value


def test_linear_terms_cancel():
    assert E.is_const(simplify((k + 1) * 64 - k * 64), 64)
    assert repr(simplify(tx * 2 + k + tx * 3)) == "tx * 5 + k"


def test_multiples_of_the_divisor_leave_div_and_mod():
    assert repr(simplify((tx * 4 + 512) % 256)) == "tx * 4 % 256"
    assert repr(simplify((tx * 4 + 512) // 256)) == "tx * 4 // 256 + 2"
    assert repr(simplify((k * 32 + tx * 8 + 64) // 32)) == "k + tx * 8 // 32 + 2"
    assert repr(simplify((tx * 8 + 1030) % 32)) == "(tx * 8 + 6) % 32"
    assert repr(simplify((tx * 64 + k) % 64)) == "k % 64"
    assert repr(simplify(k * 64 // 64)) == "k"


def test_folding_is_exact_for_floor_semantics_including_negatives():
    for op, d, c, a in itertools.product(("//", "%"), (1, 2, 3, 8, 32), range(-70, 70, 9), range(4)):
        e = E.binary(op, tx * (a * d) + k * 3 + c, d)
        s = simplify(e)
        for t, kk in itertools.product(range(0, 12, 5), range(-3, 4, 3)):
            x = t * a * d + kk * 3 + c
            assert value(s, tx=t, k=kk) == (x // d if op == "//" else x % d), (e, s, t, kk)


def test_div_mod_pairs_merge_and_bounded_remainders_split():
    tx, r = E.Var(dtypes.int32, "tx"), E.Var(dtypes.int32, "r")
    ranges = {tx: (0, 127), r: (0, 3)}
    x = tx * 8 + r
    assert repr(merge_div_mod(x // 32 * 32 + x % 32)) == "tx * 8 + r"
    assert repr(split_div_mod((r * 4 + 2) >> 2, ranges)) == "r"
    assert repr(split_div_mod((r * 4 + 2) & 3, ranges)) == "2"
    assert repr(split_div_mod(tx % 128, ranges)) == "tx"
    assert repr(split_div_mod(tx % 64, ranges)) == "tx % 64"  # not provable: unchanged
