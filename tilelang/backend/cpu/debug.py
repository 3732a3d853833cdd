"""T.print and T.device_assert on the CPU: print from the interpreter, raise on failure."""
from __future__ import annotations

import numpy as np

from ...errors import DeviceRuntimeError
from ...ir.buffer import BufferRegion
from ...ir.printer import region_to_str
from . import boxes
from .evaluator import mask_and


def run_print(ex, op, mask):
    head = f"{op.msg}: " if op.msg else ""
    where = ex.block_text()
    if isinstance(op.value, BufferRegion):
        box = boxes.read(ex, op.value, mask)
        box = box[..., 0] if box.shape[-1] == 1 else box
        print(f"{head}{region_to_str(op.value)} ({where}) =\n{np.asarray(box, dtype=np.float64) if box.dtype.kind == 'V' else box}")
        return
    value = ex.ev(op.value, mask)
    if np.ndim(value) == 0:
        print(f"{head}{value} ({where})")
        return
    value = np.broadcast_to(value, np.broadcast_shapes(np.shape(value), ex.lanes.shape))
    active = np.ones(value.shape, bool) if mask is None else np.broadcast_to(mask, value.shape)
    for index in zip(*np.nonzero(active)):
        print(f"{head}{value[index]} ({where}, {ex.lane_text(int(ex.lanes[index[-1]]))})")


def run_assert(ex, op, mask):
    cond = ex.ev(op.condition, mask)
    failed = np.logical_not(cond)
    if np.ndim(failed):
        failed = mask_and(mask, failed)
        if not np.any(failed):
            return
        lane = int(np.broadcast_to(ex.lanes, failed.shape)[failed][0]) if failed.shape[-1] > 1 else None
    elif not failed or (mask is not None and not np.any(mask)):
        return
    else:
        lane = None
    who = ex.block_text() + (f", {ex.lane_text(lane)}" if lane is not None else "")
    msg = f": {op.msg}" if op.msg else ""
    raise DeviceRuntimeError(f"device assertion failed ({who}){msg}", op.span)
