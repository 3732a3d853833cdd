"""T.gemm: C += op(A) @ op(B) in the accumulator's dtype (f16/bf16 inputs accumulate in
float32 when C is float32, int8 in int32)."""
from __future__ import annotations

import numpy as np

from ...layout.mma import mma_k
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
    if op.phase:
        a, b = _phase_operands(ex, op, a, b)
        if a is None:
            return
    prod = a @ b
    c_box = boxes.read(ex, op.c, mask)
    if not op.clear_accum:
        prod = boxes.squeeze_lanes(c_box, "T.gemm").reshape(prod.shape).astype(acc) + prod
    result = values.cast(prod, c_dtype).reshape(c_box.shape)
    boxes.write(ex, op.c, result, mask)


def _phase_operands(ex, op, a, b):
    """The k-columns one phase of a split gemm multiplies (tileop.Gemm.phase), as the GPU's
    registers hold them: each read from the tile at the phase that loads it, so a schedule
    that overwrites or reads a stage at the wrong time shows here. (None, None): nothing to run."""
    kk, k = mma_k(op.a.buffer.dtype), a.shape[1]
    held = ex.held_operands
    key = op.operands.buffer
    if op.phase == "prefetch":
        held[key] = (a[:, :kk], b[:kk])
        return None, None
    if op.phase == "body":  # k-steps 0 .. KI-2; step 0 came with the previous phase
        a, b = a.copy(), b.copy()
        a[:, :kk], b[:kk] = held[key]
        held[key] = (a[:, k - kk:], b[k - kk:])
        return a[:, :k - kk], b[:k - kk]
    last = held[key]  # tail: the last k-step of the previous stage; this stage's step 0 is loaded
    held[key] = (a[:, :kk], b[:kk])
    return last
