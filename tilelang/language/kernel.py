"""Kernel launch frames and thread/block bindings."""
from __future__ import annotations

from ..errors import TileLangTypeError, TileLangValueError
from ..ir import expr as E
from ..ir import stmt as S
from ..ir.builder import KernelFrame, current_builder
from ..ir.dtypes import int32

__all__ = ["Kernel", "get_thread_binding", "get_thread_bindings", "get_block_binding", "get_block_bindings",
           "get_thread_extent", "get_block_extent", "ws", "WarpSpecialize"]


class Kernel:
    """`with T.Kernel(gx, gy, gz, threads=128) as (bx, by, bz):` a grid of thread blocks.

    bx binds to the first grid extent (blockIdx.x). threads: an int or a tuple (x, y, z) for
    a multi-dimensional block. The `as` target is one var for a 1-D grid, else a tuple.
    """

    def __init__(self, *grid, threads=None, is_cpu=False, prelude=None, **annotations):
        if len(grid) == 1 and isinstance(grid[0], (tuple, list)):
            grid = tuple(grid[0])
        if not 1 <= len(grid) <= 3:
            raise TileLangValueError(f"T.Kernel takes 1 to 3 grid extents, got {len(grid)}")
        self.grid = tuple(_extent(g, "grid extent") for g in grid)
        self.threads = _threads(128 if threads is None else threads)
        self.annotations = dict(annotations)
        if prelude is not None:
            self.annotations["prelude"] = prelude
        self.frame: KernelFrame | None = None

    def __enter__(self):
        builder = current_builder("T.Kernel")
        if builder.kernels:
            raise TileLangValueError("T.Kernel cannot be nested inside another T.Kernel")
        names = list(builder.with_names) + [None] * 3
        block_vars = tuple(E.Var(int32, names[i] or ("bx", "by", "bz")[i]) for i in range(len(self.grid)))
        thread_vars = tuple(E.Var(int32, ("tx", "ty", "tz")[i]) for i in range(len(self.threads)))
        self.frame = KernelFrame(self.grid, self.threads, block_vars, thread_vars, annotations=dict(self.annotations))
        builder.kernels.append(self.frame)
        builder.push()
        return block_vars[0] if len(block_vars) == 1 else block_vars

    def __exit__(self, exc_type, exc, tb):
        builder = current_builder("T.Kernel")
        body = builder.pop()
        builder.kernels.pop()
        if exc_type is not None:
            return False
        f = self.frame
        builder.emit(S.KernelLaunch(f.grid, f.threads, f.block_vars, f.thread_vars, body,
                                    tuple(f.allocations), dict(f.annotations)))
        return False


def _extent(value, what):
    if isinstance(value, bool) or isinstance(value, float):
        raise TileLangTypeError(f"T.Kernel: {what} must be an integer, got {value!r}")
    e = E.convert(value)
    if not e.dtype.is_int:
        raise TileLangTypeError(f"T.Kernel: {what} must be an integer expression, got {e.dtype}")
    if isinstance(e, E.IntImm) and e.value <= 0:
        raise TileLangValueError(f"T.Kernel: {what} must be positive, got {e.value}")
    return e


def _threads(threads) -> tuple:
    dims = tuple(threads) if isinstance(threads, (tuple, list)) else (threads,)
    if not 1 <= len(dims) <= 3:
        raise TileLangValueError(f"T.Kernel: threads must be an int or a tuple of 1-3 ints, got {threads!r}")
    out = []
    for t in dims:
        if isinstance(t, E.IntImm):
            t = t.value
        if isinstance(t, bool) or not isinstance(t, int) or t <= 0:
            raise TileLangValueError(f"T.Kernel: thread counts must be positive Python ints, got {threads!r}")
        out.append(t)
    while len(out) > 1 and out[-1] == 1:
        out.pop()
    if _prod(out) > 1024:
        raise TileLangValueError(f"T.Kernel: at most 1024 threads per block, got {threads!r}")
    return tuple(out)


def _prod(xs):
    n = 1
    for x in xs:
        n *= x
    return n


def _frame(what) -> KernelFrame:
    return current_builder(what).kernel(what)


def get_thread_binding(dim: int = 0):
    """threadIdx.<x|y|z> of the enclosing kernel as a device value."""
    frame = _frame("T.get_thread_binding")
    if dim >= len(frame.thread_vars):
        return E.const(0)
    return frame.thread_vars[dim]


def get_thread_bindings():
    """The thread indices (threadIdx.x, y, z) of the enclosing T.Kernel, as a list."""
    frame = _frame("T.get_thread_bindings")
    return list(frame.thread_vars) + [E.const(0)] * (3 - len(frame.thread_vars))


def get_block_binding(dim: int = 0):
    """blockIdx.<x|y|z> of the enclosing kernel."""
    frame = _frame("T.get_block_binding")
    if dim >= len(frame.block_vars):
        return E.const(0)
    return frame.block_vars[dim]


def get_block_bindings():
    """The block indices (blockIdx.x, y, z) of the enclosing T.Kernel, as a list."""
    frame = _frame("T.get_block_bindings")
    return list(frame.block_vars) + [E.const(0)] * (3 - len(frame.block_vars))


def get_thread_extent(dim: int = 0) -> int:
    """The block's thread count along `dim`."""
    frame = _frame("T.get_thread_extent")
    return frame.threads[dim] if dim < len(frame.threads) else 1


def get_block_extent(dim: int = 0):
    """The grid extent along `dim` of the enclosing T.Kernel."""
    frame = _frame("T.get_block_extent")
    return frame.grid[dim] if dim < len(frame.grid) else E.const(1)


class WarpSpecialize:
    """`with T.ws(0):` the body runs only on the threads of warp group 0 (threads 0-127);
    `T.ws(0, 1)` on groups 0 and 1."""

    def __init__(self, *warp_groups):
        if not warp_groups:
            raise TileLangValueError("T.ws needs at least one warp group index")
        for g in warp_groups:
            if isinstance(g, bool) or not isinstance(g, int) or g < 0:
                raise TileLangTypeError(f"T.ws: warp group indices must be non-negative ints, got {g!r}")
        self.warp_groups = tuple(warp_groups)

    def __enter__(self):
        builder = current_builder("T.ws")
        frame = builder.kernel("T.ws")
        groups = frame.num_threads // S.WARP_GROUP_SIZE
        for g in self.warp_groups:
            if g >= max(groups, 1):
                raise TileLangValueError(
                    f"T.ws({g}): the kernel has {frame.num_threads} threads, i.e. {groups} warp group(s) of 128")
        self.outer = frame.warp_groups
        frame.warp_groups = self.warp_groups
        builder.push()

    def __exit__(self, exc_type, exc, tb):
        builder = current_builder("T.ws")
        body = builder.pop()
        builder.kernel("T.ws").warp_groups = self.outer
        if exc_type is None:
            builder.emit(S.WarpSpecialize(self.warp_groups, body))
        return False


ws = WarpSpecialize
