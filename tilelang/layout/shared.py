"""Shared-memory layouts: row-major, padded, XOR-swizzled (the TMA / wgmma patterns), staged.

The swizzles are defined on byte addresses exactly as CU_TENSOR_MAP_SWIZZLE_{32,64,128}B:
inside each 1024-byte-aligned block, address bits [4, 4+k) (the 16-byte chunk) are XORed with
bits [7, 7+k), k = 1, 2, 3 for 32, 64, 128 bytes. A tile is swizzled in atoms whose row is
`swizzle_bytes` wide; wider rows are split into column blocks of atoms, the shape TMA boxes
and wgmma descriptors use. A swizzled buffer must start 1024-byte aligned.
"""
from __future__ import annotations

from ..errors import TileLangValueError
from .index import flatten, prod, unflatten
from .layout import Layout

SWIZZLE_BYTES = (128, 64, 32)


def row_major(shape) -> Layout:
    shape = tuple(int(s) for s in shape)
    return Layout(shape, lambda *i: flatten(i, shape), lambda off: unflatten(off, shape), name="row_major")


def padded(shape, pad_elems: int) -> Layout:
    """Row-major with `pad_elems` unused elements after each row (breaks bank conflicts)."""
    shape = tuple(int(s) for s in shape)
    pad = int(pad_elems)
    if pad == 0:
        return row_major(shape)
    rows, cols = prod(shape[:-1]), shape[-1]
    pitch = cols + pad

    def fn(*i):
        return flatten(i[:-1], shape[:-1]) * pitch + i[-1]

    def inverse(off):
        return unflatten(off // pitch, shape[:-1]) + (off % pitch,)

    return Layout(shape, fn, inverse, size=rows * pitch, name=f"padded{pad}")


def swizzled(shape, dtype_bits: int, swizzle_bytes: int) -> Layout:
    """The TMA XOR swizzle of `swizzle_bytes` (32, 64 or 128) on a tile of (..., rows, cols)."""
    shape = tuple(int(s) for s in shape)
    if swizzle_bytes not in SWIZZLE_BYTES:
        raise TileLangValueError(f"swizzle_bytes must be one of {SWIZZLE_BYTES}, got {swizzle_bytes}")
    if len(shape) < 2:
        raise TileLangValueError(f"a swizzled layout needs at least 2 dimensions, got {shape}")
    if dtype_bits not in (8, 16, 32, 64):
        raise TileLangValueError(f"no swizzle for {dtype_bits}-bit elements")
    rows, cols = shape[-2], shape[-1]
    atom_cols = swizzle_bytes * 8 // dtype_bits        # elements in one swizzled row
    if cols % atom_cols:
        raise TileLangValueError(
            f"a {swizzle_bytes}B swizzle needs rows of a multiple of {swizzle_bytes} bytes; "
            f"{cols} x {dtype_bits}-bit elements is {cols * dtype_bits // 8} bytes")
    chunk = 128 // dtype_bits                          # elements in one 16-byte chunk
    chunk_shift = chunk.bit_length() - 1
    row_shift = (128 // swizzle_bytes).bit_length() - 1   # rows sharing one 128-byte line
    mask = swizzle_bytes // 16 - 1
    blocks = cols // atom_cols
    batch = shape[:-2]
    block_size = rows * atom_cols
    tile_size = rows * cols

    def fn(*i):
        r, c = i[-2], i[-1]
        col_block, col = (c // atom_cols, c % atom_cols) if blocks > 1 else (0, c)
        swz = col ^ (((r >> row_shift) & mask) << chunk_shift)
        off = r * atom_cols + swz
        if blocks > 1:
            off = off + col_block * block_size
        if batch:
            off = off + flatten(i[:-2], batch) * tile_size
        return off

    def inverse(off):
        b, rest = (off // tile_size, off % tile_size) if batch else (0, off)
        col_block, rest = (rest // block_size, rest % block_size) if blocks > 1 else (0, rest)
        r = rest // atom_cols
        col = (rest % atom_cols) ^ (((r >> row_shift) & mask) << chunk_shift)
        c = col + col_block * atom_cols if blocks > 1 else col
        return (unflatten(b, batch) if batch else ()) + (r, c)

    return Layout(shape, fn, inverse, name=f"swizzle{swizzle_bytes}B")


def best_shared_layout(shape, dtype_bits: int, for_ldmatrix: bool = True) -> Layout:
    """The widest swizzle the row width allows (bank-conflict-free ldmatrix / wgmma / TMA),
    else row-major."""
    shape = tuple(int(s) for s in shape)
    if for_ldmatrix and len(shape) >= 2 and dtype_bits in (8, 16, 32, 64):
        row_bytes = shape[-1] * dtype_bits // 8
        for sw in SWIZZLE_BYTES:
            if row_bytes % sw == 0:
                return swizzled(shape, dtype_bits, sw)
    return row_major(shape)


def stacked(layout: Layout, n: int) -> Layout:
    """`n` copies of `layout` one after another: the layout of a multi-versioned buffer
    of shape (n, *layout.shape)."""
    n = int(n)
    size = layout.size

    def fn(s, *i):
        return s * size + layout._fn(*i)

    def inverse(off):
        return (off // size,) + tuple(layout.inverse(off % size))

    return Layout((n,) + layout.shape, fn, inverse, size=n * size, name=f"stacked({layout.name})")
