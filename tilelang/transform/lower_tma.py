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

from ..ir import expr as E
from ..ir import stmt as S
from ..ir import tileop as TOP
from ..ir.buffer import Buffer
from ..ir.dtypes import handle, int32
from .lower_context import address_of


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


def lower_tma(op: TOP.TmaCopy, ctx) -> S.Stmt:
    from .lower_copy import lower_copy

    src, dst = op.src, op.dst
    plain = lower_copy(TOP.Copy(src, dst, span=op.span), ctx)
    if ctx.sm < 90 or op.barrier is None or src.buffer.memory_scope != "global":
        return plain
    layout = ctx.layout(dst.buffer)
    dshape = [int(s) for s in dst.buffer.shape]
    box = []
    for e in src.extents:
        if not isinstance(e, E.IntImm):
            return plain
        box.append(e.value)
    inner = box[-1]
    tile_shape = [int(e.value) for e in dst.extents if not E.is_const(e, 1)] or [1]
    swizzle = "none"
    if layout is not None:
        swizzle = _swizzle_of(_tile_table(layout, len(tile_shape)), tile_shape, dst.dtype.bytes)
    if swizzle is None or len(box) > 5 or any(b > 256 for b in box) or (inner * src.dtype.bytes) % 16:
        return plain
    if swizzle == "128B" and inner * src.dtype.bytes > 128:
        return plain
    if src.dtype != dst.dtype or int(np.prod(box)) != int(np.prod([int(e.value) for e in dst.extents])):
        return plain
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
    dst_addr = ctx.address(dst.buffer, list(dst.mins))
    coords = [E.cast(m, int32) for m in reversed(src.mins)]
    desc_addr = E.Call(handle, "address_of", (spec.var,))
    body = S.seq([
        S.Evaluate(E.Call(int32, "tl::mbar_expect_tx", (bar_addr, E.const(nbytes)))),
        S.Evaluate(E.Call(int32, f"tl::tma_load_{len(box)}d", (dst_addr, desc_addr, bar_addr, *coords))),
    ])
    return S.IfThenElse(ctx.thread == 0, body, span=op.span)
