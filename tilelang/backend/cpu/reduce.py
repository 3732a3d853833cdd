"""Reductions along one dim of a tile (T.reduce_*) and prefix sums (T.cumsum)."""
from __future__ import annotations

import numpy as np

from . import boxes, values

# (reduce along an axis, combine with dst); max/min ignore NaNs as the device's fmaxf/fminf do
_REDUCE = {
    "sum": (lambda x, d: np.sum(x, axis=d), np.add),
    "max": (lambda x, d: np.fmax.reduce(x, axis=d), np.fmax),
    "min": (lambda x, d: np.fmin.reduce(x, axis=d), np.fmin),
    "abssum": (lambda x, d: np.sum(np.abs(x), axis=d), np.add),
    "absmax": (lambda x, d: np.fmax.reduce(np.abs(x), axis=d), np.fmax),
}


def _compute_dtype(dtype):
    """The dtype reductions run in: float32 for low-precision floats, else dst's own."""
    return np.dtype(np.float32) if values.is_low_precision(dtype) else dtype.numpy


def run_reduce(ex, op, mask):
    dst_dtype = op.dst.buffer.dtype
    cd = _compute_dtype(dst_dtype)
    src = boxes.squeeze_lanes(boxes.read(ex, op.src, mask), f"T.reduce_{op.kind}").astype(cd)
    reduce_fn, combine = _REDUCE[op.kind]
    r = reduce_fn(src, op.dim)
    dst_box = boxes.read(ex, op.dst, mask)
    r = r.reshape(dst_box.shape)
    if not op.clear:
        r = combine(dst_box.astype(cd), r)
    boxes.write(ex, op.dst, values.cast(r, dst_dtype), mask)


def run_cumsum(ex, op, mask):
    dst_dtype = op.dst.buffer.dtype
    src = boxes.squeeze_lanes(boxes.read(ex, op.src, mask), "T.cumsum").astype(_compute_dtype(dst_dtype))
    if op.reverse:
        r = np.flip(np.cumsum(np.flip(src, op.dim), axis=op.dim), op.dim)
    else:
        r = np.cumsum(src, axis=op.dim)
    _, ext = boxes.box_of(ex, op.dst, mask)
    boxes.write(ex, op.dst, values.cast(r, dst_dtype).reshape(tuple(ext) + (1,)), mask)
