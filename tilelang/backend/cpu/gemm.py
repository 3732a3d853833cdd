"""T.gemm: C += op(A) @ op(B) in the accumulator's dtype (f16/bf16 inputs accumulate in
float32 when C is float32, int8 in int32)."""
from __future__ import annotations

import numpy as np

from . import boxes, values


def _matrix(ex, region, mask, transpose):
    m = boxes.squeeze_lanes(boxes.read(ex, region, mask), "T.gemm")
    _, ext = boxes.box_of(ex, region, mask)
    dims = boxes.nonunit(ext)
    m = m.reshape(dims if len(dims) == 2 else tuple(ext[-2:]))  # a unit M, N or K keeps its place
    return m.T if transpose else m


def run_gemm(ex, op, mask):
    c_dtype = op.c.buffer.dtype
    if c_dtype.is_float:
        acc = np.float64 if c_dtype.bits == 64 else np.float32
    else:
        acc = np.int64
    a = _matrix(ex, op.a, mask, op.transpose_a).astype(acc)
    b = _matrix(ex, op.b, mask, op.transpose_b).astype(acc)
    prod = a @ b
    c_box = boxes.read(ex, op.c, mask)
    if not op.clear_accum:
        prod = boxes.squeeze_lanes(c_box, "T.gemm").reshape(prod.shape).astype(acc) + prod
    result = values.cast(prod, c_dtype).reshape(c_box.shape)
    boxes.write(ex, op.c, result, mask)

