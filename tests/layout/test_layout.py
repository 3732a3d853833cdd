"""Shared-memory layouts: bijectivity, swizzles against a plain model of the TMA pattern,
bank conflicts, and expressions that agree with the integer tables."""
import itertools

import numpy as np
import pytest

from tilelang.errors import TileLangValueError
from tilelang.layout import (BitMatrix, Layout, best_shared_layout, padded, row_major, stacked,
                             swizzled)

from .evaluate import evaluate, int_vars


def tma_swizzle_byte(addr: int, swizzle_bytes: int) -> int:
    """CU_TENSOR_MAP_SWIZZLE_{32,64,128}B on a byte address, written from the hardware docs:
    the 16-byte chunk bits [4, 4+k) XOR the bits [7, 7+k)."""
    k = {32: 1, 64: 2, 128: 3}[swizzle_bytes]
    return addr ^ (((addr >> 7) & ((1 << k) - 1)) << 4)


def check_bijective(layout: Layout):
    t = layout.table().reshape(-1)
    assert sorted(t.tolist()) == list(range(layout.size)) if layout.size == t.size else len(set(t)) == t.size
    for idx in itertools.product(*(range(s) for s in layout.shape)):
        assert layout.inverse(layout.offset(*idx)) == idx


def check_expressions(layout: Layout, samples=64):
    vars_ = int_vars(*(f"i{k}" for k in range(len(layout.shape))))
    off = layout.offset(*vars_)
    (o,) = int_vars("o")
    inv = layout.inverse(o)
    rng = np.random.default_rng(0)
    for _ in range(samples):
        idx = tuple(int(rng.integers(s)) for s in layout.shape)
        env = dict(zip(vars_, idx))
        assert evaluate(off, env) == layout.offset(*idx)
        assert tuple(evaluate(x, {o: layout.offset(*idx)}) for x in inv) == idx


@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 3, 4), (8, 64)])
def test_row_major(shape):
    layout = row_major(shape)
    check_bijective(layout)
    check_expressions(layout)
    assert layout.table().reshape(-1).tolist() == list(range(int(np.prod(shape))))
    assert layout.contiguous_width() == shape[-1] & -shape[-1]


def test_padded():
    layout = padded((4, 6), 2)
    assert layout.size == 32
    assert layout.offset(1, 0) == 8 and layout.offset(3, 5) == 29
    check_bijective(layout)
    check_expressions(layout)
    assert layout.contiguous_width() == 2  # rows start at multiples of 8, runs of 2 stay aligned


@pytest.mark.parametrize("bits,swizzle,cols", [(16, 128, 64), (16, 64, 32), (16, 32, 16), (32, 128, 32),
                                               (8, 128, 128), (16, 128, 128), (32, 64, 64)])
def test_swizzle_matches_tma(bits, swizzle, cols):
    rows = 16
    layout = swizzled((rows, cols), bits, swizzle)
    check_bijective(layout)
    check_expressions(layout)
    esize = bits // 8
    atom = swizzle // esize
    for r in range(rows):
        for c in range(cols):
            # the model: column blocks of `atom` elements, each a plain row-major tile whose byte
            # addresses are then swizzled exactly as TMA does
            block, col = divmod(c, atom)
            plain = (block * rows * atom + r * atom + col) * esize
            assert layout.offset(r, c) * esize == tma_swizzle_byte(plain, swizzle), (r, c)
    assert layout.linear is not None  # an XOR swizzle is GF(2)-linear
    assert layout.contiguous_width() == 16 // esize  # 16-byte chunks stay whole


def test_swizzle_128b_is_bank_conflict_free():
    # ldmatrix / wgmma read 8 rows x 16 bytes (one column chunk) at a time
    layout = swizzled((64, 64), 16, 128)
    for row0 in range(0, 64, 8):
        for chunk in range(8):
            banks = set()
            for r in range(row0, row0 + 8):
                byte = layout.offset(r, chunk * 8) * 2
                banks.update(((byte + k * 4) // 4) % 32 for k in range(4))
            assert len(banks) == 32
    # row-major reads of the same pattern collide
    plain = row_major((64, 64))
    banks = {((plain.offset(r, 0) * 2) // 4) % 32 for r in range(8)}
    assert len(banks) == 1


def test_swizzle_batch_dims_and_errors():
    layout = swizzled((2, 8, 64), 16, 128)
    check_bijective(layout)
    assert layout.offset(1, 0, 0) == 512
    with pytest.raises(TileLangValueError, match="multiple of 128 bytes"):
        swizzled((8, 32), 16, 128)
    with pytest.raises(TileLangValueError):
        swizzled((8, 64), 16, 48)


def test_best_shared_layout():
    assert best_shared_layout((64, 64), 16).name == "swizzle128B"
    assert best_shared_layout((64, 32), 16).name == "swizzle64B"
    assert best_shared_layout((64, 16), 16).name == "swizzle32B"
    assert best_shared_layout((64, 8), 16).name == "row_major"
    assert best_shared_layout((64, 64), 16, for_ldmatrix=False).name == "row_major"
    assert best_shared_layout((128,), 16).name == "row_major"


def test_stacked():
    inner = swizzled((8, 64), 16, 128)
    layout = stacked(inner, 3)
    assert layout.shape == (3, 8, 64) and layout.size == 3 * 512
    check_bijective(layout)
    check_expressions(layout)
    assert layout.offset(2, 1, 0) == 1024 + inner.offset(1, 0)


def test_from_function_and_table_inverse():
    layout = Layout.from_function((4, 4), lambda i, j: j * 4 + i)  # column-major, no inverse_fn
    check_bijective(layout)
    assert layout.linear is not None  # a transpose permutes bits
    check_expressions(layout)  # symbolic inverse from the bit matrix
    odd = Layout.from_function((3, 3), lambda i, j: j * 3 + i)
    assert odd.linear is None
    assert odd.inverse(5) == (2, 1)
    with pytest.raises(TileLangValueError, match="inverse_fn"):
        odd.inverse(int_vars("o")[0])


def test_bit_matrix_algebra():
    swz = swizzled((8, 64), 16, 128).linear
    inv = swz.inverse()
    assert inv.compose(swz) == BitMatrix.identity(9)
    assert swz.rank() == 9
    singular = BitMatrix(2, 2, (1, 1))
    with pytest.raises(ValueError, match="singular"):
        singular.inverse()
    # to_expr on ints agrees with apply
    for x in range(512):
        assert swz.to_expr(x) == swz.apply(x)


def test_multi_dim_physical_output():
    # reference style: fn returns physical coordinates, flattened over their extents
    layout = Layout((4, 8), lambda i, j: [j // 4, i, j % 4])
    assert layout.size == 32 and layout.offset(1, 5) == 16 + 4 + 1
    check_bijective(layout)
    assert Layout((4,), lambda i: [3 - i]).offset(0) == 3


def test_reference_helpers_take_buffers():
    from tilelang.ir import expr as E
    from tilelang.ir.buffer import Buffer
    from tilelang.ir.dtypes import as_dtype
    from tilelang.layout import (make_full_bank_swizzled_layout, make_linear_layout,
                                 make_quarter_bank_swizzled_layout, make_swizzled_layout)

    buf = Buffer("A_s", (E.const(32), E.const(64)), as_dtype("float16"), "shared.dyn")
    assert make_swizzled_layout(buf).name == "swizzle128B"
    assert make_full_bank_swizzled_layout(buf).is_equal(swizzled((32, 64), 16, 128))
    assert make_quarter_bank_swizzled_layout(buf).name == "swizzle32B"
    assert make_linear_layout(buf[0:32, 0:64]).name == "row_major"  # regions name their buffer
