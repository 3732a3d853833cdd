"""Thread-level builtins: barriers, mbarriers, printing, assertions, scheduling hints."""
from __future__ import annotations

from ..errors import TileLangTypeError
from ..ir import expr as E
from ..ir import intrinsics as I
from ..ir import tileop as TOP
from ..ir.buffer import Buffer, BufferRegion
from ..ir.builder import current_builder
from .kernel import get_thread_binding
from ..ir.scope import Scope

__all__ = ["sync_threads", "sync_warp", "sync_grid", "mbarrier_arrive", "mbarrier_wait_parity", "mbarrier_expect_tx",
           "mbarrier_arrive_expect_tx", "barrier_arrive", "barrier_wait", "fence_proxy_async", "print",
           "device_assert", "use_swizzle", "annotate_layout", "annotate_padding", "annotate_l2_hit_ratio",
           "no_set_max_nreg", "set_max_nreg", "inc_max_nreg", "dec_max_nreg", "disable_warp_group_reg_alloc",
           "shfl_xor", "shfl_down", "shfl_up", "shfl_sync", "get_lane_idx", "get_warp_idx", "get_warp_group_idx",
           "warpgroup_arrive", "warpgroup_commit_batch", "warpgroup_wait", "wait_wgmma", "tma_store_wait"]


def _call_stmt(intrinsic: I.Intrinsic, *args):
    current_builder(f"T.{intrinsic.name}").emit(intrinsic.stmt(*args))


def sync_threads(barrier_id=None, arrive_count=None):
    """Block barrier: every thread of the block waits here (the compiler inserts these
    for shared-memory hazards; call it yourself only for hand-written thread code)."""
    if barrier_id is None:
        _call_stmt(I.BLOCK_BARRIER)
    else:
        _call_stmt(I.NAMED_BARRIER, barrier_id, arrive_count if arrive_count is not None else 0)


def sync_warp(mask=None):
    """Barrier across the threads of a warp."""
    _call_stmt(I.WARP_BARRIER)


def sync_grid():
    """Barrier across every block of the grid (a cooperative launch)."""
    _call_stmt(I.GRID_BARRIER)


def _bar(bar, fn):
    if isinstance(bar, Buffer):
        if bar.memory_scope != Scope.BARRIER:
            raise TileLangTypeError(f"{fn}: expected a barrier from T.alloc_barrier, got the {bar.memory_scope} buffer {bar.name}")
        return bar[0]
    if isinstance(bar, E.BufferLoad) and bar.buffer.memory_scope == Scope.BARRIER:
        return bar
    raise TileLangTypeError(f"{fn}: expected a barrier from T.alloc_barrier (or one element of it), got {bar!r}")


def mbarrier_arrive(mbarrier, cta_id=None):
    """Arrive on an mbarrier (one arrival from each thread that executes this)."""
    _call_stmt(I.MBARRIER_ARRIVE, _bar(mbarrier, "T.mbarrier_arrive"))


def mbarrier_wait_parity(mbarrier, parity):
    """Wait until the mbarrier's phase with the given parity (0 or 1) has completed."""
    _call_stmt(I.MBARRIER_WAIT_PARITY, _bar(mbarrier, "T.mbarrier_wait_parity"), E.convert(parity))


def mbarrier_expect_tx(mbarrier, tx):
    """Add `tx` bytes that async copies must deliver before the mbarrier's phase completes."""
    _call_stmt(I.MBARRIER_EXPECT_TX, _bar(mbarrier, "T.mbarrier_expect_tx"), E.convert(tx))


def mbarrier_arrive_expect_tx(mbarrier, tx):
    """Arrive on an mbarrier and add `tx` expected bytes to its current phase."""
    _call_stmt(I.MBARRIER_ARRIVE_EXPECT_TX, _bar(mbarrier, "T.mbarrier_arrive_expect_tx"), E.convert(tx))


def barrier_arrive(mbarrier):
    """Same as T.mbarrier_arrive."""
    mbarrier_arrive(mbarrier)


def barrier_wait(mbarrier, parity):
    """Same as T.mbarrier_wait_parity."""
    mbarrier_wait_parity(mbarrier, parity)


def fence_proxy_async():
    """Order this thread's generic-proxy shared-memory writes before later async-proxy (TMA, wgmma) reads."""
    _call_stmt(I.FENCE_PROXY_ASYNC)


def print(obj, msg: str = "", warp_group_id=None, warp_id=None):
    """Print a value from the device: a scalar from every thread that reaches this, or a whole
    buffer (once per block, with indices)."""
    builder = current_builder("T.print")
    if isinstance(obj, Buffer) and obj.memory_scope != Scope.VAR:
        value = BufferRegion.full(obj)
    elif isinstance(obj, BufferRegion):
        value = obj
    else:
        value = E.convert(obj)
    builder.emit(TOP.Print(value, str(msg)))


def device_assert(condition, msg: str = ""):
    """Stop the kernel with a message when condition is false (checked on both backends)."""
    current_builder("T.device_assert").emit(TOP.DeviceAssert(E.convert(condition), str(msg)))


def use_swizzle(panel_size: int = 8, order: str = "row", enable: bool = True):
    """Launch blocks in panels of `panel_size` along `order` for better L2 reuse."""
    if enable:
        current_builder("T.use_swizzle").kernel("T.use_swizzle").annotations["block_swizzle"] = (int(panel_size), order)


def annotate_layout(layout_map: dict):
    """Fix the layout of buffers: {buffer: Layout or Fragment} (tilelang.layout values)."""
    frame = current_builder("T.annotate_layout").kernel("T.annotate_layout")
    for buf in layout_map:
        if not isinstance(buf, Buffer):
            raise TileLangTypeError(f"T.annotate_layout: keys must be buffers, got {buf!r}")
    frame.annotations.setdefault("layout_map", {}).update(layout_map)


def annotate_padding(padding_map: dict):
    """Accepted for compatibility: padding values for out-of-bounds reads of the named buffers."""
    current_builder("T.annotate_padding").kernel("T.annotate_padding").annotations.setdefault("padding_map", {}).update(padding_map)


def annotate_l2_hit_ratio(*args, **kwargs):
    """Accepted for compatibility; has no effect."""


def no_set_max_nreg():
    """Hopper: leave register budgets as the compiler set them."""
    current_builder("T.no_set_max_nreg").kernel("T.no_set_max_nreg").annotations["no_set_max_nreg"] = True


def disable_warp_group_reg_alloc():
    """Hopper: do not rebalance registers between warp groups."""
    no_set_max_nreg()


def set_max_nreg(reg_count: int, is_inc: int):
    """Hopper: set this warp group's register budget (is_inc=1 raises, 0 lowers)."""
    _call_stmt(I.SET_MAX_NREG, reg_count, is_inc)


def inc_max_nreg(reg_count: int):
    """Hopper: raise this warp group's register budget to `reg_count` (setmaxnreg.inc)."""
    set_max_nreg(reg_count, 1)


def dec_max_nreg(reg_count: int):
    """Hopper: lower this warp group's register budget to `reg_count` (setmaxnreg.dec)."""
    set_max_nreg(reg_count, 0)


def _shfl(intrinsic, value, arg, width):
    v = E.convert(value)
    return intrinsic(v, arg, width, dtype=v.dtype)


def shfl_xor(value, offset, width=32):
    """The value held by lane (lane ^ offset) of the warp (butterfly shuffle)."""
    return _shfl(I.SHFL_XOR, value, offset, width)


def shfl_down(value, offset, width=32):
    """The value held by lane (lane + offset) of the warp (warp shuffle down)."""
    return _shfl(I.SHFL_DOWN, value, offset, width)


def shfl_up(value, offset, width=32):
    """The value held by lane (lane - offset) of the warp (warp shuffle up)."""
    return _shfl(I.SHFL_UP, value, offset, width)


def shfl_sync(value, src_lane, width=32):
    """The value held by lane `src_lane` of the warp (warp shuffle)."""
    return _shfl(I.SHFL_SYNC, value, src_lane, width)


def get_lane_idx(warp_size=32):
    """This thread's lane within its warp (threadIdx.x % warp_size)."""

    return get_thread_binding(0) % warp_size


def get_warp_idx(warp_size=32):
    """This thread's warp within the block (threadIdx.x // warp_size)."""
    return get_thread_binding(0) // warp_size


def get_warp_group_idx(warp_size=32, warps_per_group=4):
    """This thread's warp group (128 threads each by default)."""
    return get_thread_binding(0) // (warp_size * warps_per_group)


def warpgroup_arrive():
    """Hopper: fence before wgmma reads registers and shared memory written earlier."""
    _call_stmt(I.WARPGROUP_ARRIVE)


def warpgroup_commit_batch():
    """Hopper: close the current batch of wgmma operations (wgmma.commit_group)."""
    _call_stmt(I.WARPGROUP_COMMIT)


def warpgroup_wait(num_mma: int = 0):
    """Hopper: wait until at most `num_mma` batches of wgmma operations are still in flight."""
    _call_stmt(I.WARPGROUP_WAIT, num_mma)


wait_wgmma = warpgroup_wait


def tma_store_wait():
    """Wait until this thread's TMA stores have finished reading shared memory."""
    _call_stmt(I.TMA_STORE_WAIT)

