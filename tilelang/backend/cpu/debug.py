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
    per_lane = np.shape(value)[-1] > 1 or not ex.parallel_depth  # else one print per T.Parallel iteration
    shape = np.broadcast_shapes(np.shape(value), ex.lanes.shape if per_lane else (), np.shape(mask))
    value = np.broadcast_to(value, shape)
    active = np.ones(shape, bool) if mask is None else np.broadcast_to(mask, shape)
    for index in zip(*np.nonzero(active)):
        who = [f"iteration {tuple(int(i) for i in index[:-1])}"] if ex.parallel_depth else []
        if per_lane:
            who.append(ex.lane_text(int(ex.lanes[index[-1]])))
        print(f"{head}{value[index]} ({where}, {', '.join(who)})")


def run_assert(ex, op, mask):
    failed = mask_and(mask, np.logical_not(ex.ev(op.condition, mask)))
    if not np.any(failed):
        return
    who = [ex.block_text()]
    if np.ndim(failed):
        index = tuple(int(i) for i in np.argwhere(failed)[0])
        if ex.parallel_depth:
            who.append(f"iteration {index[:-1]}")
        if failed.shape[-1] > 1:
            who.append(ex.lane_text(int(ex.lanes[index[-1]])))
    msg = f": {op.msg}" if op.msg else ""
    raise DeviceRuntimeError(f"device assertion failed ({', '.join(who)}){msg}", op.span)
