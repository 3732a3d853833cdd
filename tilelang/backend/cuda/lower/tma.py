"""T.tma_copy (TmaCopy): a bulk tensor copy global -> shared completing on an mbarrier.

sm_90+: one thread of the group posts `expect_tx(bytes)` on the barrier and issues
tl::tma_load_Nd with a tensor map passed as a `__grid_constant__` kernel parameter; the host
encodes the map (TmaDescriptorSpec in func.attrs["tma_descriptors"]). The shared layout must
be row-major or the 128-byte swizzle TMA can write. Older targets (or other layouts): the
group's threads copy the tile themselves; the barrier still completes through the program's
own arrivals, so the semantics (data ready when the phase completes) are the same.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ....ir import expr as E
from ....ir import intrinsics as I
from ....ir import stmt as S
from ....ir import tileop as TOP
from ....ir.buffer import Buffer
from ....ir.dtypes import handle, int32
from .context import address_of
from .copy import lower_copy
from .registry import lowering
from ....ir.scope import Scope


@dataclasses.dataclass(eq=False)
class TmaDescriptorSpec:
    """A tensor map the host encodes for one kernel parameter: tiled view of a global buffer."""

    var: E.Var          # the kernel parameter (const __grid_constant__ tl::TmaDescriptor)
    buffer: Buffer      # global tensor it views (shape and strides come from the call's tensor)
    box: tuple          # box extents, outermost first (as torch writes shapes)
    swizzle: str        # "none" | "128B"

    def key(self):
        return (self.buffer, self.box, self.swizzle)


def _swizzle_of(table, shape, elem_bytes) -> str | None:
    """'none' for row-major, '128B' for the 128-byte XOR swizzle over rows of 128 bytes."""
    table = table.reshape(-1)
    if np.array_equal(table, np.arange(table.size)):
        return "none"
    if shape[-1] * elem_bytes != 128:
        return None
    n_rows = table.size // shape[-1]
    r = np.arange(n_rows)[:, None]
    c = np.arange(shape[-1])[None, :]
    unit = 16 // elem_bytes
    expect = r * shape[-1] + (((c // unit) ^ (r % 8)) * unit) + c % unit
    return "128B" if np.array_equal(table, expect.reshape(-1)) else None


def _tile_table(layout, nd_tile: int):
    """Offsets of one tile of a (possibly multi-versioned) buffer, relative to its start."""
    t = np.asarray(layout.table())
    while t.ndim > nd_tile:
        t = t[0]
    return t - t.min()


@lowering(TOP.TmaCopy)
def lower_tma(op: TOP.TmaCopy, ctx) -> S.Stmt:

    src, dst = op.src, op.dst
    plain = lower_copy(TOP.Copy(src, dst, span=op.span), ctx)
    if not ctx.target.bulk_copy or op.barrier is None or src.buffer.memory_scope != Scope.GLOBAL:
        return plain
    layout = ctx.layout(dst.buffer)
    box = []
    for e in src.extents:
        if not isinstance(e, E.IntImm):
            return plain
        box.append(e.value)
    inner = box[-1]
    tile_shape = [int(e.value) for e in dst.extents if not E.is_const(e, 1)] or [1]
    chunk = inner  # elements per TMA box along the innermost dim
    swizzle = "none"
    if layout is not None:
        table = _tile_table(layout, len(tile_shape))
        swizzle = _swizzle_of(table, tile_shape, dst.dtype.bytes)
        if swizzle is None and len(tile_shape) == 2:
            chunk, swizzle = _swizzled_chunks(table, tile_shape, dst.dtype.bytes)
    if swizzle is None or len(box) > 5 or any(b > 256 for b in box) or (chunk * src.dtype.bytes) % 16:
        return plain
    if swizzle == "128B" and chunk * src.dtype.bytes > 128:
        return plain
    if src.dtype != dst.dtype or int(np.prod(box)) != int(np.prod([int(e.value) for e in dst.extents])):
        return plain
    box = box[:-1] + [chunk]
    spec = None
    for d in ctx.tma_descriptors:
        if d.key() == (src.buffer, tuple(box), swizzle):
            spec = d
    if spec is None:
        spec = TmaDescriptorSpec(E.Var(handle, f"{src.buffer.name}_desc"), src.buffer, tuple(box), swizzle)
        ctx.tma_descriptors.append(spec)
    bar = op.barrier
    nbytes = int(np.prod(box)) * src.dtype.bytes
    bar_addr = address_of(bar)
    desc_addr = I.ADDRESS_OF(spec.var, dtype=handle)
    loads = [I.MBARRIER_EXPECT_TX.stmt(bar, nbytes * (inner // chunk))]
    for j in range(inner // chunk):
        dst_start = list(dst.mins)
        dst_start[-1] = dst_start[-1] + j * chunk
        src_start = list(src.mins)
        src_start[-1] = src_start[-1] + j * chunk
        coords = [E.cast(m, int32) for m in reversed(src_start)]
        loads.append(I.TMA_LOAD.stmt(ctx.address(dst.buffer, dst_start), desc_addr, bar_addr, *coords))
    return S.IfThenElse(ctx.thread == 0, S.seq(loads), span=op.span)


def _swizzled_chunks(table, shape, elem_bytes):
    """(chunk, "128B") when the tile is column blocks of 128 bytes, each 128B-swizzled and
    starting at its first element; else (inner, None)."""
    cw = 128 // elem_bytes
    rows, cols = shape
    if cols % cw or cols == cw:
        return cols, None
    for j in range(cols // cw):
        part = table[:, j * cw:(j + 1) * cw]
        if part.min() != part[0, 0] or _swizzle_of(part - part.min(), [rows, cw], elem_bytes) != "128B":
            return cols, None
    return cw, "128B"
