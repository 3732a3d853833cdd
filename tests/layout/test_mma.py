"""mma.sync layouts: the Python maps against a model of tl_gemm.cuh's address math and of the
ldmatrix / mma.sync register conventions (PTX ISA, "Matrix fragments for mma.m16n8k16"),
warp partitions, and gemm_layouts on Gemm ops."""
import numpy as np
import pytest

from tilelang.backend.cuda.target import describe
from tilelang.errors import LoweringError, Span
from tilelang.ir import expr as E
from tilelang.ir.buffer import Buffer, BufferRegion, Range
from tilelang.ir.dtypes import as_dtype
from tilelang.ir.tileop import Gemm
from tilelang.layout import stacked, swizzled
from tilelang.layout.mma import (gemm_layouts, gemm_warp_partition, mma_accumulator, mma_operand_a,
                                 shared_operand_layout, swizzle_bytes_for)


# ------------------------------------------------------------------ model of tl_gemm.cuh
def cpp_offset(rows, cols, swizzle_bytes, elem_bytes, row, col):
    """tl::SmemLayout<rows, cols, swizzle_bytes>::offset<T>(row, col), line for line."""
    if swizzle_bytes == 0:
        return row * cols + col
    atom = swizzle_bytes // elem_bytes
    chunk = 16 // elem_bytes
    row_shift = {128: 0, 64: 1, 32: 2}[swizzle_bytes]
    mask = swizzle_bytes // 16 - 1
    off = row * atom + ((col % atom) ^ (((row >> row_shift) & mask) * chunk))
    if cols > atom:
        off += (col // atom) * (rows * atom)
    return off


@pytest.mark.parametrize("rows,cols,bits", [(64, 32, 16), (32, 64, 16), (128, 32, 16), (32, 256, 16),
                                            (64, 16, 16), (64, 64, 8), (16, 96, 16), (32, 32, 32),
                                            (64, 8, 32), (8, 128, 8)])
def test_cpp_smem_layout_matches_python(rows, cols, bits):
    sw = swizzle_bytes_for(cols, bits)
    layout = shared_operand_layout((rows, cols), bits)
    r, c = np.indices((rows, cols))
    model = np.vectorize(lambda a, b: cpp_offset(rows, cols, sw, bits // 8, a, b))(r, c)
    assert np.array_equal(layout.table(), model)
    assert layout.is_bijective()


def test_shared_operand_layout_stacks_stages():
    layout = shared_operand_layout((3, 128, 32), 16)
    assert layout.shape == (3, 128, 32)
    assert layout.is_equal(stacked(swizzled((128, 32), 16, 64), 3))
    assert layout.offset(2, 5, 9) == 2 * 128 * 32 + swizzled((128, 32), 16, 64).offset(5, 9)


def test_swizzle_choice():
    assert swizzle_bytes_for(64, 16) == 128
    assert swizzle_bytes_for(32, 16) == 64
    assert swizzle_bytes_for(16, 16) == 32
    assert swizzle_bytes_for(8, 16) == 0
    assert swizzle_bytes_for(96, 16) == 64
    assert swizzle_bytes_for(64, 8) == 64


def _ldmatrix_conflict_free(layout, elem_bytes, row_addrs):
    """8 row addresses of one 8x8 ldmatrix phase hit 8 distinct 16-byte bank groups."""
    groups = {(layout.offset(*rc) * elem_bytes // 16) % 8 for rc in row_addrs}
    return len(groups) == 8


@pytest.mark.parametrize("rows,cols", [(64, 32), (64, 64), (64, 16), (128, 256)])
def test_ldmatrix_rows_conflict_free(rows, cols):
    layout = shared_operand_layout((rows, cols), 16)
    for r0 in range(0, rows, 8):
        for c0 in range(0, cols, 8):
            assert _ldmatrix_conflict_free(layout, 2, [(r0 + i, c0) for i in range(8)])


# ------------------------------------------------------------------ register conventions
def mma_c_coord(lane, c):
    """PTX: accumulator c0..c3 of an m16n8 tile."""
    g, t = lane // 4, lane % 4
    return g + 8 * (c // 2), 2 * t + c % 2


def mma_a_coord(lane, j):
    """PTX: A a0..a7 (16-bit) of an m16k16 tile."""
    g, t = lane // 4, lane % 4
    return g + 8 * (j // 2 % 2), 2 * t + j % 2 + 8 * (j // 4)


def mma_b_coord(lane, j):
    """PTX: B b0..b3 (16-bit) of a k16n8 tile, as (k, n)."""
    g, t = lane // 4, lane % 4
    return 2 * t + j % 2 + 8 * (j // 2), g


def ldmatrix(mem, addrs, n, trans):
    """ldmatrix.x{n}: lane l supplies the row address of matrix l // 8, row l % 8 (each a
    list of 8 element coordinates); returns regs[lane][i] = the 2 elements of matrix i."""
    out = [[None] * n for _ in range(32)]
    for i in range(n):
        rows = [addrs[i * 8 + r] for r in range(8)]
        for lane in range(32):
            g, t = lane // 4, lane % 4
            if trans:
                out[lane][i] = (mem(rows[2 * t][g]), mem(rows[2 * t + 1][g]))
            else:
                out[lane][i] = (mem(rows[g][2 * t]), mem(rows[g][2 * t + 1]))
    return out


def _row(layout, row, col):
    """The 8 elements (as logical coordinates) read from the 16-byte row at (row, col)."""
    base = layout.offset(row, col)
    return [layout.inverse(base + e) for e in range(8)]


@pytest.mark.parametrize("trans", [False, True])
@pytest.mark.parametrize("m,k", [(64, 32), (32, 64), (64, 128)])
def test_ldmatrix_a_addresses_give_mma_a_fragment(trans, m, k):
    """The A-operand addresses of tl_gemm.cuh (load_a) read, through the swizzled layout, the
    elements that mma.sync expects in a0..a7."""
    stored = (k, m) if trans else (m, k)
    layout = shared_operand_layout(stored, 16)
    for row0 in range(0, m, 16):
        for ki in range(k // 16):
            addrs = []
            for lane in range(32):
                if trans:
                    rc = (ki * 16 + ((lane >> 4) << 3) + (lane & 7), row0 + ((lane >> 3) & 1) * 8)
                else:
                    rc = (row0 + (lane & 15), ki * 16 + (lane >> 4) * 8)
                addrs.append(_row(layout, *rc))
            mem = (lambda x: (x[1], x[0])) if trans else (lambda x: x)  # logical (m, k)
            regs = ldmatrix(mem, addrs, 4, trans)
            for lane in range(32):
                for j in range(8):
                    r, c = mma_a_coord(lane, j)
                    assert regs[lane][j // 2][j % 2] == (row0 + r, ki * 16 + c)


@pytest.mark.parametrize("trans", [False, True])
@pytest.mark.parametrize("n,k", [(64, 32), (32, 64), (256, 32)])
def test_ldmatrix_b_addresses_give_mma_b_fragment(trans, n, k):
    stored = (n, k) if trans else (k, n)
    layout = shared_operand_layout(stored, 16)
    for col0 in range(0, n, 16):
        for ki in range(k // 16):
            addrs = []
            for lane in range(32):
                if trans:
                    rc = (col0 + ((lane >> 4) << 3) + (lane & 7), ki * 16 + ((lane >> 3) & 1) * 8)
                else:
                    rc = (ki * 16 + ((lane >> 3) & 1) * 8 + (lane & 7), col0 + ((lane >> 4) << 3))
                addrs.append(_row(layout, *rc))
            mem = (lambda x: (x[1], x[0])) if trans else (lambda x: x)  # logical (k, n)
            regs = ldmatrix(mem, addrs, 4, not trans)
            for lane in range(32):
                for half in range(2):
                    for j in range(4):
                        kk, nn = mma_b_coord(lane, j)
                        assert regs[lane][half * 2 + j // 2][j % 2] == (ki * 16 + kk, col0 + half * 8 + nn)


# ------------------------------------------------------------------ fragments
@pytest.mark.parametrize("m,n,wm,wn", [(64, 64, 2, 2), (128, 256, 2, 4), (64, 128, 4, 1), (32, 24, 1, 3)])
def test_accumulator_matches_ptx(m, n, wm, wn):
    frag = mma_accumulator(m, n, wm, wn)
    assert frag.num_threads == wm * wn * 32
    assert frag.num_registers == (m // wm // 16) * (n // wn // 8) * 4
    assert frag.is_dense()
    assert frag.vector_width() == 2
    ni_count = n // wn // 8
    for warp in range(wm * wn):
        w_m, w_n = warp % wm, warp // wm
        for lane in range(32):
            for reg in range(frag.num_registers):
                mi, ni, c = reg // 4 // ni_count, reg // 4 % ni_count, reg % 4
                r, col = mma_c_coord(lane, c)
                i, j = w_m * (m // wm) + mi * 16 + r, w_n * (n // wn) + ni * 8 + col
                assert frag.thread(i, j) == warp * 32 + lane and frag.register(i, j) == reg


def test_operand_a_matches_ptx_and_replicates():
    m, k, wm, wn = 64, 32, 2, 2
    frag = mma_operand_a(m, k, wm, wn)
    assert frag.replicate == wn and frag.num_registers == (m // wm // 16) * (k // 16) * 8
    for warp in range(wm):
        for lane in range(32):
            for reg in range(frag.num_registers):
                mi, ki, j = reg // 8 // (k // 16), reg // 8 % (k // 16), reg % 8
                r, c = mma_a_coord(lane, j)
                i, kk = warp * (m // wm) + mi * 16 + r, ki * 16 + c
                assert frag.register(i, kk) == reg
                assert {frag.thread(i, kk, rep=q) for q in range(wn)} == {warp * 32 + lane + q * wm * 32
                                                                           for q in range(wn)}


@pytest.mark.parametrize("m,k,wm", [(64, 64, 4), (128, 64, 4), (64, 32, 2), (128, 128, 8)])
def test_accumulator_is_operand_a_register_for_register(m, k, wm):
    """A float accumulator (m, k) with warp_n = 1 cast to half is the A operand of P @ V."""
    acc = mma_accumulator(m, k, wm, 1)
    a = mma_operand_a(m, k, wm, 1)
    assert acc.is_equal(a)


def test_fragment_expressions():
    frag = mma_accumulator(64, 64, 2, 2)
    i, j = E.Var(as_dtype("int32"), "i"), E.Var(as_dtype("int32"), "j")
    assert isinstance(frag.thread(i, j), E.Expr) and isinstance(frag.register(i, j), E.Expr)


# ------------------------------------------------------------------ warp partition
@pytest.mark.parametrize("policy,m,n,warps,expect", [
    ("Square", 128, 256, 8, (2, 4)), ("Square", 128, 128, 4, (2, 2)), ("Square", 64, 64, 4, (2, 2)),
    ("Square", 256, 128, 8, (4, 2)), ("FullRow", 64, 64, 4, (4, 1)), ("FullRow", 64, 128, 8, (4, 2)),
    ("FullCol", 64, 64, 4, (1, 4)), ("FullCol", 128, 16, 4, (2, 2)), ("Square", 16, 64, 4, (1, 4)),
])
def test_warp_partition(policy, m, n, warps, expect):
    assert gemm_warp_partition(policy, m, n, warps) == expect


# ------------------------------------------------------------------ gemm_layouts
SPAN = Span("kernel.py", 12)


def _buf(name, shape, dtype, scope):
    return Buffer(name, tuple(E.const(s) for s in shape), as_dtype(dtype), scope)


def _region(buf, ranges=None):
    if ranges is None:
        return BufferRegion.full(buf)
    return BufferRegion(buf, tuple(Range(E.convert(lo), E.const(ext)) for lo, ext in ranges))


def test_gemm_layouts_ss_with_stages():
    a = _buf("A_s", (3, 128, 32), "float16", "shared.dyn")
    b = _buf("B_s", (3, 32, 128), "float16", "shared.dyn")
    c = _buf("C_f", (128, 128), "float32", "local.fragment")
    k = E.Var(as_dtype("int32"), "k")
    op = Gemm(_region(a, [(k % 3, 1), (0, 128), (0, 32)]), _region(b, [(k % 3, 1), (0, 32), (0, 128)]),
              _region(c), span=SPAN)
    lay = gemm_layouts(op, 128, describe("sm_80"))
    assert lay[c].is_equal(mma_accumulator(128, 128, 2, 2))
    assert lay[a].is_equal(stacked(swizzled((128, 32), 16, 64), 3))
    assert lay[b].is_equal(stacked(swizzled((32, 128), 16, 128), 3))


def test_gemm_layouts_rs_flash_attention():
    p = _buf("p", (64, 64), "float16", "local.fragment")
    v = _buf("V_s", (64, 128), "float16", "shared.dyn")
    o = _buf("o", (64, 128), "float32", "local.fragment")
    op = Gemm(_region(p), _region(v), _region(o), policy="FullRow", span=SPAN)
    lay = gemm_layouts(op, 128, describe("sm_80"))
    assert lay[p].is_equal(mma_operand_a(64, 64, 4, 1))
    assert lay[p].is_equal(mma_accumulator(64, 64, 4, 1))  # = the layout of s, the first gemm's C
    assert lay[o].is_equal(mma_accumulator(64, 128, 4, 1))


def test_gemm_layouts_errors_name_the_line():
    a = _buf("A_s", (24, 32), "float16", "shared.dyn")
    b = _buf("B_s", (32, 64), "float16", "shared.dyn")
    c = _buf("C_f", (24, 64), "float32", "local.fragment")
    with pytest.raises(LoweringError) as err:
        gemm_layouts(Gemm(_region(a), _region(b), _region(c), span=SPAN), 128, describe("sm_80"))
    assert "kernel.py:12" in str(err.value) and "multiple of" in str(err.value)
    a2 = _buf("A_s", (64, 32), "float16", "shared.dyn")
    c2 = _buf("C_f", (64, 48), "float32", "local.fragment")
    with pytest.raises(LoweringError, match="do not match"):
        gemm_layouts(Gemm(_region(a2), _region(b), _region(c2), span=SPAN), 128, describe("sm_80"))
    g = _buf("A", (64, 32), "float16", "global")
    c3 = _buf("C_f", (64, 64), "float32", "local.fragment")
    with pytest.raises(LoweringError, match="shared memory"):
        gemm_layouts(Gemm(_region(g), _region(b), _region(c3), span=SPAN), 128, describe("sm_80"))


# ------------------------------------------------------------------ tl_gemm.cuh's hoisted lane offsets
def cpp_row_stride(cols, swizzle_bytes, elem_bytes):
    return cols if swizzle_bytes == 0 else swizzle_bytes // elem_bytes


def cpp_advance_col(rows, swizzle_bytes, elem_bytes, off, dc):
    if swizzle_bytes == 0:
        return off + dc
    atom = swizzle_bytes // elem_bytes
    return (off ^ (dc % atom)) + (dc // atom) * (rows * atom)


@pytest.mark.parametrize("rows,cols,bits", [(128, 32, 16), (64, 64, 16), (64, 128, 16), (32, 256, 16),
                                            (64, 16, 16), (64, 64, 8), (64, 24, 16), (32, 32, 32)])
def test_operand_offsets_decompose(rows, cols, bits):
    """OperandA/OperandB compute one lane offset and add per-step constants (advance_col along
    the stored row, row_stride per 8 rows); that must equal the direct SmemLayout offset."""
    eb = bits // 8
    e = 16 // eb
    sw = swizzle_bytes_for(cols, bits)
    layout = shared_operand_layout((rows, cols), bits)
    rs = cpp_row_stride(cols, sw, eb)
    kk = 2 * e
    for row0 in range(0, rows, 16):
        for lane in range(32):
            # rows run along the stored row: row0 + lane % 16 (+ 16 mi), cols (lane >> 4) * E + ki * KK
            base = layout.offset(row0 + (lane & 15), (lane >> 4) * e)
            for mi in range((rows - row0) // 16):
                for ki in range(cols // kk):
                    got = cpp_advance_col(rows, sw, eb, base, ki * kk) + mi * 16 * rs
                    assert got == layout.offset(row0 + mi * 16 + (lane & 15), ki * kk + (lane >> 4) * e)
    if bits != 16:
        return
    for c0 in range(0, cols, 16):
        for lane in range(32):
            # the .trans form: stored rows are k (lane part + 16 ki), columns fixed per lane
            base = layout.offset(((lane >> 4) << 3) + (lane & 7), c0 + ((lane >> 3) & 1) * 8)
            for ki in range(rows // 16):
                assert base + ki * 16 * rs == layout.offset(ki * 16 + ((lane >> 4) << 3) + (lane & 7),
                                                            c0 + ((lane >> 3) & 1) * 8)


# ------------------------------------------------------------------ wgmma (sm_90a)
from tilelang.layout import row_major  # noqa: E402
from tilelang.layout.mma import (wgmma_accumulator, wgmma_decode, wgmma_n_width, wgmma_operand,  # noqa: E402
                                 wgmma_operand_a, wgmma_partition, wgmma_plan)


def wgmma_d_coord(warp, lane, i):
    """PTX "Register fragment layout for accumulator D" of wgmma m64nNk16: register i of
    lane (4 g + t) in warp w of the warpgroup."""
    g, t = lane // 4, lane % 4
    return 16 * warp + g + 8 * (i % 4 // 2), 8 * (i // 4) + 2 * t + i % 2


@pytest.mark.parametrize("m,n,gm,gn", [(64, 64, 1, 1), (128, 256, 1, 2), (128, 256, 2, 1), (256, 128, 2, 1),
                                       (128, 64, 1, 1), (64, 512, 1, 2), (128, 192, 1, 2)])
def test_wgmma_accumulator_matches_ptx(m, n, gm, gn):
    frag = wgmma_accumulator(m, n, gm, gn)
    m_wg, n_wg = m // gm, n // gn
    width = wgmma_n_width(n_wg)
    assert frag.num_threads == 128 * gm * gn and frag.is_dense() and frag.vector_width() == 2
    assert frag.num_registers == (m_wg // 64) * n_wg // 2
    threads, regs = frag.table()
    for i, j in [(0, 0), (m - 1, n - 1), (m // 2 + 9, n // 3 + 5), (63, 8)]:
        assert tuple(int(x) for x in frag.logical(int(threads[i, j]), int(regs[i, j]))) == (i, j)
    for g in range(gm * gn):
        g_m, g_n = g % gm, g // gm
        for mi in range(m_wg // 64):
            for ni in range(n_wg // width):       # instruction ni's registers start at ni * width / 2
                for warp in range(4):
                    for lane in range(32):
                        for i in range(width // 2):
                            r, c = wgmma_d_coord(warp, lane, i)
                            row, col = g_m * m_wg + mi * 64 + r, g_n * n_wg + ni * width + c
                            assert threads[row, col] == g * 128 + warp * 32 + lane
                            assert regs[row, col] == mi * (n_wg // 2) + ni * (width // 2) + i


@pytest.mark.parametrize("m,k,gm,gn", [(64, 64, 1, 1), (128, 64, 1, 1), (128, 128, 2, 1), (128, 64, 2, 2)])
def test_wgmma_operand_a_is_the_accumulator_and_matches_ptx(m, k, gm, gn):
    """T.copy(acc_s, acc_s_cast) then T.gemm(acc_s_cast, V_s, acc_o): register for register."""
    a = wgmma_operand_a(m, k, gm, gn)
    acc = wgmma_accumulator(m, k, gm, 1)
    assert a.replicate == gn
    at0, ar0 = a.table()
    for q in range(gn):   # the inverse maps every replica's slot back to the element
        assert tuple(int(x) for x in a.logical(int(at0[m - 1, k - 3]) + q * gm * 128, int(ar0[m - 1, k - 3]))) \
            == (m - 1, k - 3)
    if gn == 1:
        assert a.is_equal(acc)
    at, ar = a.table()
    acc_t, acc_r = acc.table()
    assert np.array_equal(ar, acc_r) and np.array_equal(at, acc_t)
    for q in range(gn):   # replica q sits in warpgroup gm_index + q * gm
        assert np.array_equal(np.vectorize(lambda i, j: a.thread(i, j, rep=q))(*np.indices((m, k))),
                              acc_t + q * gm * 128)
    # PTX "Register fragment layout for matrix A" (m64k16): 16-bit element j of lane 4 g + t,
    # warp w is (16 w + g + 8 (j // 2 % 2), 2 t + j % 2 + 8 (j // 4)); the template hands
    # wgmma the 8 halves at mi * (k / 2) + 8 * step.
    m_wg = m // gm
    for g in range(gm):
        for mi in range(m_wg // 64):
            for step in range(k // 16):
                for warp in range(4):
                    for lane in range(32):
                        for j in range(8):
                            r, c = mma_a_coord(lane, j)
                            row, col = g * m_wg + mi * 64 + 16 * warp + r, step * 16 + c
                            assert at[row, col] == g * 128 + warp * 32 + lane
                            assert ar[row, col] == mi * (k // 2) + 8 * step + j


@pytest.mark.parametrize("policy,m,n,wgs,expect", [
    ("Square", 128, 256, 2, (1, 2)), ("FullRow", 128, 256, 2, (2, 1)), ("FullCol", 128, 256, 2, (1, 2)),
    ("Square", 128, 128, 2, (2, 1)), ("Square", 64, 256, 2, (1, 2)), ("FullRow", 64, 64, 2, (1, 2)),
    ("Square", 64, 8, 2, None), ("Square", 32, 64, 1, None), ("Square", 256, 64, 4, (4, 1))])
def test_wgmma_partition(policy, m, n, wgs, expect):
    assert wgmma_partition(policy, m, n, wgs) == expect


def test_wgmma_n_width():
    assert [wgmma_n_width(n) for n in (8, 64, 256, 512, 384, 96, 200)] == [8, 64, 256, 256, 192, 96, 200]


WGMMA_TILES = [  # (rows, cols) stored, mn_major, instruction mn extent
    ((128, 64), False, 64), ((64, 128), False, 64), ((128, 32), False, 64), ((64, 16), False, 64),
    ((256, 128), False, 128), ((64, 256), True, 256), ((64, 256), True, 128), ((32, 128), True, 64),
    ((64, 64), True, 64), ((16, 64), True, 32), ((128, 128), True, 128), ((64, 32), True, 32)]


@pytest.mark.parametrize("shape,mn_major,width", WGMMA_TILES)
@pytest.mark.parametrize("sw", [128, 64, 32])
def test_wgmma_descriptors_read_the_layout(shape, mn_major, width, sw):
    """Every (width x 16) sub-tile wgmma reads through the derived descriptor is, element for
    element, where the swizzled layout stores it (decoded with the PTX canonical layouts)."""
    if (shape[1] * 2) % sw or (mn_major and (width * 2) % sw):
        pytest.skip("no such swizzle for this tile")
    layout = swizzled(shape, 16, sw)
    desc = wgmma_operand(layout, 2, mn_major, width)
    assert desc is not None and desc.swizzle_bytes == sw
    table = layout.table() * 2
    mn, k = (shape[1], shape[0]) if mn_major else shape
    for i in range(mn // width):
        for j in range(k // 16):
            got = wgmma_decode(desc.start(i, j), desc.lbo, desc.sbo, sw, mn_major, width)
            want = (table[16 * j:16 * j + 16, i * width:(i + 1) * width].T if mn_major
                    else table[i * width:(i + 1) * width, 16 * j:16 * j + 16])
            assert np.array_equal(got, want)
    # wrong strides read other bytes
    if k > 8:
        bad = wgmma_decode(desc.start(0, 0), desc.lbo, desc.sbo + 16, sw, mn_major, width)
        assert not np.array_equal(bad, table[0:16, 0:width].T if mn_major else table[0:width, 0:16])


def test_wgmma_decode_k_major_128b_by_hand():
    # 128B swizzle, K-major: row r of the 8-row group sits r * 128 bytes in, its 16-byte chunk
    # c at (c ^ r) * 16.
    addr = wgmma_decode(0, 16, 1024, 128, False, 64)
    assert addr[3, 8] == 3 * 128 + ((1 ^ 3) * 16)
    assert addr[9, 0] == 1024 + 128 + 16 * 1
    mn = wgmma_decode(0, 8192, 1024, 128, True, 128)
    assert mn[64, 0] == 8192 and mn[8, 1] == 128 + ((1 ^ 1) * 16)


def test_wgmma_operand_rejects_other_layouts():
    assert wgmma_operand(row_major((64, 64)), 2, False, 64) is None
    assert wgmma_operand(swizzled((64, 64), 16, 128), 2, True, 32) is None   # atom wider than the instruction


def _gemm(a_shape, b_shape, c_shape, dtype="float16", acc="float32", a_scope="shared.dyn", **kw):
    a = _buf("A", a_shape, dtype, a_scope)
    b = _buf("B", b_shape, dtype, "shared.dyn")
    c = _buf("C", c_shape, acc, "local.fragment")
    return Gemm(_region(a), _region(b), _region(c), **kw)


def test_gemm_layouts_choose_wgmma_on_sm_90a_only():
    op = _gemm((128, 64), (64, 256), (128, 256))
    plan = wgmma_plan(op, 256, describe("sm_90a"))
    assert (plan.wg_m, plan.wg_n, plan.n_width, plan.swizzle_a, plan.swizzle_b) == (1, 2, 128, 128, 128)
    lay = gemm_layouts(op, 256, describe("sm_90a"))
    assert lay[op.c.buffer].is_equal(wgmma_accumulator(128, 256, 1, 2))
    assert lay[op.b.buffer].is_equal(swizzled((64, 256), 16, 128))
    assert wgmma_plan(op, 256, describe("sm_90")) is None and wgmma_plan(op, 256, describe("sm_80")) is None
    assert gemm_layouts(op, 256, describe("sm_90"))[op.c.buffer].is_equal(mma_accumulator(128, 256, 2, 4))


@pytest.mark.parametrize("a,b,c,dtype,acc,threads,kw", [
    ((64, 64), (64, 64), (64, 64), "int8", "int32", 128, {}),           # int8: mma.sync
    ((64, 32), (32, 64), (64, 64), "float32", "float32", 128, {}),      # tf32: mma.sync
    ((64, 32), (32, 64), (64, 64), "float16", "float16", 128, {}),      # f16 accumulator
    ((32, 32), (32, 64), (32, 64), "float16", "float32", 128, {}),      # M < 64
    ((64, 32), (32, 64), (64, 64), "float16", "float32", 64, {}),       # not a warpgroup
    ((64, 8), (8, 64), (64, 64), "float16", "float32", 128, {}),        # K % 16
])
def test_gemm_layouts_keep_mma_sync_where_wgmma_cannot(a, b, c, dtype, acc, threads, kw):
    assert wgmma_plan(_gemm(a, b, c, dtype, acc, **kw), threads, describe("sm_90a")) is None


def test_wgmma_rs_layouts_and_mn_major_swizzle_narrowing():
    op = _gemm((128, 64), (64, 128), (128, 128), a_scope="local.fragment", policy="FullRow")
    lay = gemm_layouts(op, 256, describe("sm_90a"))
    assert lay[op.a.buffer].is_equal(wgmma_operand_a(128, 64, 2, 1))
    assert lay[op.c.buffer].is_equal(wgmma_accumulator(128, 128, 2, 1))
    # B (K, N) is MN-major: with 4 warpgroups along N each instruction is 32 wide, so the
    # swizzle atom narrows to 64 bytes
    op = _gemm((64, 64), (64, 128), (64, 128), policy="FullCol")
    plan = wgmma_plan(op, 512, describe("sm_90a"))
    assert (plan.wg_n, plan.n_width, plan.swizzle_b) == (4, 32, 64)


def test_atom_tables_follow_the_fragments():
    """The register tables tl_gemm.cuh takes (accumulator atoms, register-A atoms) are read off
    the fragments and checked against every element; a fragment off the mma lane pattern is refused."""
    from tilelang.errors import TileLangValueError
    from tilelang.layout import Fragment
    from tilelang.layout import mma as mma_mod
    from tilelang.layout.mma import mma_accumulator_atoms, mma_operand_a_atoms

    assert mma_accumulator_atoms(64, 64, 2, 2) == tuple(4 * i for i in range(2 * 4))
    assert mma_accumulator_atoms(128, 256, 2, 4, 16) == tuple(4 * i for i in range(4 * 8))
    assert mma_operand_a_atoms(64, 64, 4, 1) == (0, 4, 8, 12)
    assert mma_operand_a_atoms(128, 32, 2, 2) == tuple(4 * i for i in range(4 * 2))
    with pytest.raises(TileLangValueError, match="lane pattern"):
        frag = mma_accumulator(32, 32, 1, 1)
        swapped = Fragment((32, 32), 32, lambda i, j: frag._fn(i, j ^ 1))
        mma_mod._check_atoms(swapped, 16, 8, lambda r, c: (r % 8 * 4 + c // 2, r // 8 * 2 + c % 2),
                             np.zeros((1, 2, 4), dtype=np.int64) + np.arange(0, 32, 4).reshape(1, 2, 4), "acc", 1)
