"""Reading and writing boxes of buffers (the operands of tile ops), clipped at the edges.

A box value carries a trailing lane axis: size 1 for a tile shared by the block, the
thread count for per-thread (`local`) buffers or boxes whose origin differs per thread.
Out-of-bounds reads give 0 and out-of-bounds writes are dropped (DESIGN.md rule 1).
"""
from __future__ import annotations

import numpy as np

from ...errors import DeviceRuntimeError
from .evaluator import LANE_SCOPES


def box_of(ex, region, mask):
    """(mins, extents) of a region: mins are 0-d ints or per-lane arrays; extents ints."""
    mins = [ex.ev(r.min, mask) for r in region.region]
    extents = []
    for r in region.region:
        n = ex.ev(r.extent, mask)
        if np.ndim(n) != 0:
            raise DeviceRuntimeError(f"the box {region!r} has an extent that differs between threads")
        extents.append(int(n))
    return mins, extents


def _uniform(mins) -> bool:
    return all(np.ndim(m) == 0 for m in mins)


def _windows(mins, extents, shape):
    """Per dim: (slice into the buffer, slice into the box), or None when the box misses."""
    inner, outer = [], []
    for lo, ext, n in zip(mins, extents, shape):
        lo = int(lo)
        a, b = max(lo, 0), min(lo + ext, n)
        if b <= a:
            return None
        inner.append(slice(a, b))
        outer.append(slice(a - lo, b - lo))
    return tuple(inner), tuple(outer)


def read(ex, region, mask=None) -> np.ndarray:
    """The box as an array of shape (*extents, lanes)."""
    buf = region.buffer
    arr = ex.storage_of(buf)
    mins, extents = box_of(ex, region, mask)
    per_lane = buf.memory_scope in LANE_SCOPES
    if _uniform(mins):
        lanes = arr.shape[-1] if per_lane else 1
        win = _windows(mins, extents, arr.shape)
        full = win is not None and all(s.stop - s.start == e for s, e in zip(win[0], extents))
        if full:
            part = arr[win[0]]
            return part if per_lane else part[..., None]
        out = np.zeros(tuple(extents) + (lanes,), dtype=arr.dtype)
        if win is not None:
            part = arr[win[0]]
            out[win[1]] = part if per_lane else part[..., None]
        return out
    idx = _grid(mins, extents)
    if per_lane:
        idx.append(ex.lanes)
    idx = np.broadcast_arrays(*idx)
    valid = np.ones(idx[0].shape, dtype=bool)
    for i, n in zip(idx, arr.shape):
        valid &= (i >= 0) & (i < n)
    safe = tuple(np.clip(i, 0, n - 1) for i, n in zip(idx, arr.shape))
    return np.where(valid, arr[safe], arr.dtype.type(0))


def write(ex, region, value: np.ndarray, mask=None) -> None:
    """Store a (*extents, lanes) array into the box, dropping out-of-bounds elements."""
    buf = region.buffer
    arr = ex.storage_of(buf)
    mins, extents = box_of(ex, region, mask)
    per_lane = buf.memory_scope in LANE_SCOPES
    value = np.asarray(value)
    if value.shape[-1] != 1 and not per_lane and _uniform(mins):
        raise DeviceRuntimeError(f"writing per-thread values into the block-wide tile {buf.name} is not "
                                 "supported by the CPU backend; index it per thread instead")
    lane_mask = None if mask is None or np.ndim(mask) == 0 else np.broadcast_to(mask, ex.lanes.shape)
    if _uniform(mins):
        win = _windows(mins, extents, arr.shape)
        if win is None:
            return
        part = value[win[1]]
        if not per_lane:
            arr[win[0]] = part[..., 0]
        elif lane_mask is None:
            arr[win[0]] = part
        else:
            active = np.nonzero(lane_mask)[0]
            arr[win[0] + (active,)] = part[..., active] if part.shape[-1] > 1 else part
        return
    idx = _grid(mins, extents)
    if per_lane:
        idx.append(ex.lanes)
    shape = np.broadcast_shapes(*(np.shape(i) for i in idx), value.shape)
    idx = [np.broadcast_to(i, shape) for i in idx]
    value = np.broadcast_to(value, shape)
    keep = np.ones(shape, dtype=bool)
    for i, n in zip(idx, arr.shape):
        keep &= (i >= 0) & (i < n)
    if lane_mask is not None:
        keep &= lane_mask
    arr[tuple(i[keep] for i in idx)] = value[keep]


def _grid(mins, extents) -> list:
    """Index arrays of shape (*extents, lanes) for a box whose origin may differ per lane."""
    nd = len(extents)
    out = []
    for d, (lo, ext) in enumerate(zip(mins, extents)):
        shape = [1] * nd + [1]
        shape[d] = ext
        offs = np.arange(ext, dtype=np.int64).reshape(shape)
        lo = np.asarray(lo, dtype=np.int64)
        out.append(offs + (lo if lo.ndim == 0 else lo.reshape((1,) * nd + lo.shape[-1:])))
    return out


def squeeze_lanes(box: np.ndarray, what: str) -> np.ndarray:
    """A block-wide tile from a box value (its lane axis must be 1)."""
    if box.shape[-1] != 1:
        raise DeviceRuntimeError(f"{what} on per-thread buffers is not supported by the CPU backend")
    return box[..., 0]


def nonunit(extents) -> tuple:
    return tuple(e for e in extents if e != 1)
