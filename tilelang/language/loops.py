"""Loop constructors: `for i, j in T.Parallel(m, n)`, T.Pipelined, T.serial, T.unroll, ...

Each returns a LoopSpec (frontend/specs.py) that the frontend turns into nested `For`
statements when it meets it in a `for` statement.
"""
from __future__ import annotations

from ..errors import TileLangTypeError, TileLangValueError
from ..ir import expr as E
from ..ir import stmt as S
from ..ir.dtypes import int32
from ..frontend.specs import LoopSpec, range_spec as _range

__all__ = ["Parallel", "Pipelined", "serial", "unroll", "vectorized", "thread_binding", "grid", "LoopSpec"]


def Parallel(*extents, coalesced_width=None, loop_layout=None, prefer_async=None):
    """A logical loop over a whole tile; the compiler picks which thread runs which iteration."""
    if len(extents) == 1 and isinstance(extents[0], (tuple, list)):
        extents = tuple(extents[0])
    if not extents:
        raise TileLangValueError("T.Parallel needs at least one extent")
    ann = {}
    if coalesced_width is not None:
        ann["coalesced_width"] = int(coalesced_width)
    if loop_layout is not None:
        ann["loop_layout"] = loop_layout
    return LoopSpec("parallel", [_range("Parallel", e, None) for e in extents], ann)


def Pipelined(start, stop=None, num_stages=0, order=None, stage=None, sync=None, group=None):
    """A sequential loop whose copies the compiler overlaps with compute over `num_stages` buffers."""
    if isinstance(num_stages, bool) or not isinstance(num_stages, int) or num_stages < 0:
        raise TileLangValueError(f"T.Pipelined: num_stages must be a non-negative int, got {num_stages!r}")
    ann = {"num_stages": num_stages}
    for key, value in (("order", order), ("stage", stage), ("sync", sync), ("group", group)):
        if value is not None:
            ann[key] = tuple(value) if isinstance(value, list) else value
    return LoopSpec("pipelined", [_range("Pipelined", start, stop)], ann)


def serial(start, stop=None, step=1, *, annotations=None):
    """A sequential loop (what `range` means inside a kernel)."""
    return LoopSpec("serial", [_range("serial", start, stop, step)], dict(annotations or {}))


def unroll(start, stop=None, step=1, *, explicit=False, unroll_factor=None, annotations=None):
    """A serial loop that the compiler unrolls fully (or by `unroll_factor`)."""
    ann = dict(annotations or {})
    if unroll_factor is not None:
        ann["unroll_factor"] = unroll_factor
    return LoopSpec("unroll", [_range("unroll", start, stop, step)], ann)


def vectorized(start, stop=None, *, annotations=None):
    """A loop over consecutive elements that the compiler turns into vector loads and stores."""
    return LoopSpec("vectorized", [_range("vectorized", start, stop)], dict(annotations or {}))


def thread_binding(start, stop=None, thread="threadIdx.x", *, annotations=None):
    """A loop whose variable is the thread index `thread` (its extent is the thread count)."""
    if thread not in ("threadIdx.x", "threadIdx.y", "threadIdx.z"):
        raise TileLangValueError(f"T.thread_binding: thread must be threadIdx.x/y/z, got {thread!r}")
    return LoopSpec("thread", [_range("thread_binding", start, stop)], {"thread": thread, **(annotations or {})})


def grid(*extents):
    """Nested serial loops: `for i, j in T.grid(m, n)`."""
    return LoopSpec("serial", [_range("grid", e, None) for e in extents])
