"""Running a kernel launch over its grid.

Blocks run one after another, each with fresh shared memory, fragments, per-thread buffers
and barriers (all alive at once, interleaved at their waits, when the kernel uses
T.sync_grid). Two kinds of kernels run many blocks at once instead: thread-level kernels
(no block-wide tiles, T.Parallel or barriers), where every thread of every block is a lane
and shared buffers get an axis per block; and kernels made only of T.Parallel loops over
global memory, where the blocks are one more loop axis.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np

from ...errors import DeviceRuntimeError
from ...ir import expr as E
from ...ir import intrinsics as I
from ...ir import stmt as S
from ...ir import tileop as TOP
from ...ir.stmt import WARP_GROUP_SIZE
from ...ir.visitor import collect
from .barriers import BarrierSet, GridBarrier, TotalProgress
from .evaluator import LANE_SCOPES, Evaluator
from .executor import BlockExecutor, deadlock, interleave
from ...ir.scope import SHARED_SCOPES, Scope

_TAGS = ("threadIdx.x", "threadIdx.y", "threadIdx.z")
MAX_LANES = 1 << 16  # lanes per step when blocks run together
MAX_ELEMENTS = 1 << 20  # T.Parallel iterations per step when blocks are a loop axis


def run_launch(launch: S.KernelLaunch, env: dict, storage: dict) -> None:
    host = Evaluator(env, storage, np.zeros(1, np.int32))
    grid = [_int(host, g, "grid extent", launch.span) for g in launch.grid]
    shapes = {buf: tuple(_int(host, d, f"extent of {buf.name}", buf.span) for d in buf.shape)
              for buf in launch.allocations}
    nests = _parallel_only(launch)
    volume = _volume(nests, host) if nests is not None else None
    if volume is not None:
        _run_as_parallel_axis(launch, env, storage, grid, volume)
    elif _blocks_fuse(launch):
        _run_together(launch, env, storage, grid, shapes)
    else:
        _run_one_by_one(launch, env, storage, grid, shapes)


def _run_one_by_one(launch, env, storage, grid, shapes):
    num_threads = int(np.prod(launch.threads))
    lanes = np.arange(num_threads, dtype=np.int32)
    thread_values = _split(lanes, launch.threads)
    num_groups = -(-num_threads // WARP_GROUP_SIZE) if _warp_specialized(launch.body) else 1
    cooperative = _uses_grid_sync(launch.body)
    grid_barrier = GridBarrier(int(np.prod(grid)) * num_groups) if cooperative else None
    blocks = []
    for block in itertools.product(*(range(n) for n in reversed(grid))):
        block = tuple(reversed(block))  # blockIdx.x varies fastest
        block_env = dict(env)
        block_env.update((v, np.int32(b)) for v, b in zip(launch.block_vars, block))
        block_env.update(zip(launch.thread_vars, thread_values))
        barriers = BarrierSet()
        block_storage = dict(storage)
        for buf in launch.allocations:
            if buf.memory_scope == Scope.BARRIER:
                barriers.allocate(buf)
            lane_axis = (num_threads,) if buf.memory_scope in LANE_SCOPES else ()
            block_storage[buf] = np.zeros(shapes[buf] + lane_axis, dtype=buf.dtype.numpy)
        text = "block " + ", ".join(f"{v.name}={b}" for v, b in zip(launch.block_vars, block))
        ex = BlockExecutor(block_env, block_storage, lanes, barriers, text)
        ex.thread_tags = dict(zip(_TAGS, launch.thread_vars))
        ex.grid_barrier = grid_barrier
        groups = [ex.for_warp_group(n) for n in range(num_groups)] if num_groups > 1 else None
        if not cooperative:
            ex.run_block(launch.body, groups)
        else:
            blocks.append((ex, ex.block_run(launch.body, groups)))
    if cooperative:  # every block is alive at once, interleaved at its waits
        progress = TotalProgress([ex.barriers for ex, _ in blocks] + [grid_barrier])
        for waiting in interleave(progress, [gen for _, gen in blocks]):
            raise deadlock(waiting, "the grid")


def _run_together(launch, env, storage, grid, shapes):
    num_threads = int(np.prod(launch.threads))
    num_blocks = int(np.prod(grid))
    per_step = max(1, MAX_LANES // num_threads)
    for first in range(0, num_blocks, per_step):
        count = min(per_step, num_blocks - first)
        lanes = np.arange(count * num_threads, dtype=np.int32)
        slot = lanes // num_threads
        block_env = dict(env)
        block_env.update(zip(launch.block_vars, _split(first + slot, grid)))
        block_env.update(zip(launch.thread_vars, _split(lanes % num_threads, launch.threads)))
        block_storage = dict(storage)
        for buf in launch.allocations:
            extra = (lanes.size,) if buf.memory_scope in LANE_SCOPES else (count,)
            block_storage[buf] = np.zeros(shapes[buf] + extra, dtype=buf.dtype.numpy)
        ex = BlockExecutor(block_env, block_storage, lanes, BarrierSet(),
                           f"blocks {first}..{first + count - 1} run as one vector")
        ex.block_slot = slot
        ex.thread_tags = dict(zip(_TAGS, launch.thread_vars))
        ex.lane_text = _lane_namer(launch, grid, first, num_threads)
        ex.run_block(launch.body)


def _run_as_parallel_axis(launch, env, storage, grid, volume):
    """Blocks as one more (outermost) T.Parallel axis, in steps of at most MAX_ELEMENTS."""
    num_blocks = int(np.prod(grid))
    per_step = max(1, MAX_ELEMENTS // max(volume, 1))
    lane = np.zeros(1, np.int32)
    for first in range(0, num_blocks, per_step):
        count = min(per_step, num_blocks - first)
        linear = np.arange(first, first + count).reshape(count, 1)  # (block axis, lane axis)
        block_env = dict(env)
        block_env.update(zip(launch.block_vars, _split(linear, grid)))
        ex = BlockExecutor(block_env, dict(storage), lane, BarrierSet(),
                           f"blocks {first}..{first + count - 1} run as one vector")
        ex.parallel_depth = 1
        ex.run_block(launch.body)


@functools.lru_cache(maxsize=256)
def _parallel_only(launch):
    """The T.Parallel loops of a kernel made only of them over global memory (no allocations,
    threads or tile ops), so that its blocks can become one more loop axis; else None."""
    if launch.allocations:
        return None
    body = launch.body
    nodes = collect(body, lambda n: isinstance(n, (TOP.TileOp, S.WarpSpecialize, E.Call, E.Var, S.For)))
    thread_vars = set(launch.thread_vars)
    for n in nodes:
        if isinstance(n, (TOP.TileOp, S.WarpSpecialize)) or (isinstance(n, E.Var) and n in thread_vars):
            return None
        if I.lookup(n) in _BLOCK_LEVEL_CALLS:
            return None
        if isinstance(n, S.For) and n.kind == "thread":
            return None
    loops = [n for n in nodes if isinstance(n, S.For) and n.kind == "parallel"]
    inside = {id(a) for loop in loops for a in collect(loop, lambda x: isinstance(x, TOP.Atomic))}
    if len(inside) != len(collect(body, lambda x: isinstance(x, TOP.Atomic))):
        return None  # an atomic outside T.Parallel runs once per thread
    return tuple(loops)


def _volume(loops, host):
    """An upper bound of T.Parallel iterations per block (None if an extent depends on it)."""
    total = 1
    for loop in loops:
        try:
            total *= int(host.ev(loop.extent))
        except (DeviceRuntimeError, TypeError):
            return None
    return total


def _lane_namer(launch, grid, first, num_threads):
    def lane_text(lane: int) -> str:
        block = _split(np.array(first + lane // num_threads), grid)
        names = ", ".join(f"{v.name}={int(b)}" for v, b in zip(launch.block_vars, block))
        return f"thread {lane % num_threads} of block {names}"

    return lane_text


def _split(linear, extents) -> list:
    """x, y, z coordinates of linear indices (x fastest), as int32."""
    out, stride = [], 1
    for n in extents:
        out.append(((linear // stride) % n).astype(np.int32))
        stride *= n
    return out


@functools.lru_cache(maxsize=256)
def _uses_grid_sync(body) -> bool:
    return bool(collect(body, I.GRID_BARRIER.matches))


@functools.lru_cache(maxsize=256)
def _warp_specialized(body) -> bool:
    """T.ws blocks whose threads wait on mbarriers: their warp groups must run independently."""
    has_ws = collect(body, lambda n: isinstance(n, S.WarpSpecialize))
    waits = collect(body, I.MBARRIER_WAIT_PARITY.matches)
    return bool(has_ws and waits)


_BLOCK_LEVEL_CALLS = (I.MBARRIER_ARRIVE, I.MBARRIER_WAIT_PARITY, I.MBARRIER_EXPECT_TX, I.MBARRIER_ARRIVE_EXPECT_TX,
                      *I.SHUFFLES, I.GRID_BARRIER)


@functools.lru_cache(maxsize=256)
def _blocks_fuse(launch) -> bool:
    """Whether every statement is per-thread, so blocks can run side by side as lanes."""
    if any(buf.memory_scope not in SHARED_SCOPES + LANE_SCOPES for buf in launch.allocations):
        return False
    for n in collect(launch.body, lambda n: isinstance(n, (TOP.TileOp, S.WarpSpecialize, S.For, E.Call))):
        if isinstance(n, S.WarpSpecialize) or (isinstance(n, S.For) and n.kind == "parallel"):
            return False
        if I.lookup(n) in _BLOCK_LEVEL_CALLS:
            return False
        if isinstance(n, TOP.TileOp):
            per_thread = isinstance(n, (TOP.Copy, TOP.Fill)) and all(
                r.buffer.memory_scope in (Scope.GLOBAL,) + LANE_SCOPES for r in n.reads() + n.writes())
            if not per_thread:
                return False
    return True


def _int(ev, e, what, span) -> int:
    try:
        v = ev.ev(e)
    except DeviceRuntimeError as err:
        raise err.with_span(span)
    if np.ndim(v) != 0:
        raise DeviceRuntimeError(f"the {what} `{e!r}` is not a single number", span)
    return int(v)
