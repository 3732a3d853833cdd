"""transform/bounds.py: constant intervals of index expressions."""
from tilelang.ir import expr as E
from tilelang.ir.dtypes import int32
from tilelang.arith.bounds import bounds, nonneg

pid, tx, k = E.Var(int32, "pid"), E.Var(int32, "tx"), E.Var(int32, "k")
RANGES = {pid: (0, 2047), tx: (0, 255), k: (0, 7)}


def test_grouped_rasterization_stays_inside_the_matrix():
    group = E.binary("min", 64 - pid // 256 * 8, 8)
    by = pid // 256 * 8 + pid % 256 % group
    assert bounds(group, RANGES) == (8, 8)
    assert bounds(by, RANGES) == (0, 63)
    assert bounds(by * 128 + (k * 1024 + tx * 8) // 64, RANGES)[1] == 63 * 128 + (7 * 1024 + 255 * 8) // 64


def test_shifted_thread_index_and_masks():
    assert bounds(tx - 128, RANGES) == (-128, 127)
    assert bounds(tx - 128, {tx: (128, 255)}) == (0, 127)
    assert bounds((tx & 28) << 3, RANGES) == (0, 224)
    assert bounds(tx >> 5, RANGES) == (0, 7)


def test_unknown_stays_unknown():
    m = E.Var(int32, "m")
    assert bounds(m * 4, RANGES) == (None, None)
    assert not nonneg(k - 1, RANGES) and nonneg(k % 3 - 0, RANGES)
    assert bounds(m % 32, RANGES) == (0, 31)  # floor modulo by a positive constant
