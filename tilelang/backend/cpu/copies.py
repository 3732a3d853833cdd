"""Data movement tile ops: T.copy, T.tma_copy, T.fill/T.clear and tile atomics."""
from __future__ import annotations

import numpy as np

from ...ir.buffer import BufferRegion
from . import boxes, values

_ATOMIC = {"add": np.add, "max": np.fmax, "min": np.fmin}


def _moved(ex, op, mask):
    """The source box cast to the destination's dtype and shaped like the destination box."""
    v = values.cast(boxes.read(ex, op.src, mask), op.dst.buffer.dtype)
    _, dst_ext = boxes.box_of(ex, op.dst, mask)
    return v.reshape(tuple(dst_ext) + (v.shape[-1],)), dst_ext


def run_copy(ex, op, mask):
    v, _ = _moved(ex, op, mask)
    boxes.write(ex, op.dst, v, mask)


def run_tma_copy(ex, op, mask):
    """A copy that completes its bytes on the barrier (the expect_tx is the program's)."""
    v, dst_ext = _moved(ex, op, mask)
    boxes.write(ex, op.dst, v, mask)
    if op.barrier is not None:
        index = int(ex.ev(op.barrier.indices[0], mask))
        nbytes = int(np.prod(dst_ext)) * op.dst.buffer.dtype.bytes
        ex.barriers.complete_tx(op.barrier.buffer, index, nbytes)


def _box_shape(ex, region, value, mask):
    """A scalar (or per-lane) value spread over the region's box: (*extents, lanes)."""
    _, ext = boxes.box_of(ex, region, mask)
    lanes = np.shape(value)[-1] if np.ndim(value) else 1
    v = np.asarray(value)
    if v.ndim:
        v = v.reshape((1,) * len(ext) + (lanes,))
    return np.broadcast_to(v, tuple(ext) + (lanes,))


def run_fill(ex, op, mask):
    value = values.cast(ex.ev(op.value, mask), op.dst.buffer.dtype)
    boxes.write(ex, op.dst, _box_shape(ex, op.dst, value, mask), mask)


def run_atomic_region(ex, op, mask):
    """Element-wise `dst op= src` over a tile, done once by the block (so it is atomic)."""
    dtype = op.dst.buffer.dtype
    old = boxes.read(ex, op.dst, mask)
    if isinstance(op.src, BufferRegion):
        src = values.cast(boxes.read(ex, op.src, mask), dtype).reshape(old.shape[:-1] + (-1,))
    else:
        src = values.cast(ex.ev(op.src, mask), dtype)
    boxes.write(ex, op.dst, values.cast(_ATOMIC[op.op](old, src), dtype), mask)
