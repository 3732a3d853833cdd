"""Statements of one thread block, SIMT style on numpy.

Thread-level code runs once for all threads at the same time: each thread is a lane of the
last axis and divergent branches run under a lane mask. Tile ops run once per block.
`T.Parallel` nests run once, vectorized over index grids that add axes to the left.

Every `run` is a generator that yields a `Waiting` when its threads are blocked
on an mbarrier; a divergent `if` interleaves its two sides, so a consumer branch that waits
lets the producer branch run. Warp-specialized kernels (T.ws with mbarrier waits) run each
warp group as its own executor, interleaved the same way; a tile op then runs in the lowest
group of its T.ws (group 0 outside any), and other groups see its result once they are
ordered after it by an mbarrier. A wait that no thread group can get past is a deadlock.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ...errors import DeviceRuntimeError, TileLangError
from ...ir import expr as E
from ...ir import intrinsics as I
from ...ir import stmt as S
from ...ir import tileop as TOP
from ...ir.stmt import WARP_GROUP_SIZE
from ...ir.visitor import collect
from . import values
from .copies import run_atomic_region, run_copy, run_fill, run_tma_copy
from .debug import run_assert, run_print
from .evaluator import LANE_SCOPES, Evaluator, any_active, mask_and, oob_message
from .gemm import run_gemm
from .reduce import run_cumsum, run_reduce

TILE_OPS = {
    TOP.Copy: run_copy, TOP.TmaCopy: run_tma_copy, TOP.Fill: run_fill, TOP.AtomicRegion: run_atomic_region,
    TOP.Gemm: run_gemm, TOP.Reduce: run_reduce, TOP.CumSum: run_cumsum, TOP.Print: run_print,
}

_UFUNC_AT = {"add": np.add, "max": np.fmax, "min": np.fmin}
# one numpy lane per thread runs in lock step: block / warp barriers, fences and register or
# wgmma scheduling hints change nothing
_NO_OPS = (I.BLOCK_BARRIER, I.WARP_BARRIER, I.NAMED_BARRIER, I.FENCE_PROXY_ASYNC, I.SET_MAX_NREG,
           I.WARPGROUP_ARRIVE, I.WARPGROUP_COMMIT, I.WARPGROUP_WAIT, I.TMA_STORE_WAIT)


class BlockExecutor(Evaluator):
    """Runs a kernel body for one block. `block` names the block for error messages."""

    def __init__(self, env, storage, lanes, barriers, block: str):
        super().__init__(env, storage, lanes)
        self.barriers = barriers
        self.block = block
        self.parallel_depth = 0  # T.Parallel axes in scope (left of the lane axis)
        self.thread_tags: dict = {}  # "threadIdx.x" -> its Var, for T.thread_binding loops
        self.group = None  # the warp group, when each runs as its own executor
        self.ws_leads: list = []  # per enclosing T.ws: does this executor run its tile ops
        self.grid_barrier = None  # set when the blocks run cooperatively (T.sync_grid)

    def block_text(self) -> str:
        return self.block

    def lane_text(self, lane: int) -> str:
        """Which thread a lane is (grid.py overrides this when blocks run together)."""
        return f"thread {lane}"

    # -- driving ------------------------------------------------------------------------
    def run_block(self, body, groups=None) -> None:
        for waiting in self.block_run(body, groups):
            raise deadlock(waiting, self.block_text())

    def block_run(self, body, groups=None):
        """Run the body for all threads, or (groups: executors, one per warp group) cooperatively;
        yields a Waiting while every thread is blocked."""
        gens = [self.run(body, None)] if groups is None else \
            [g.run(body, g.lanes // WARP_GROUP_SIZE == n) for n, g in enumerate(groups)]
        yield from interleave(self.barriers, gens)

    def for_warp_group(self, n: int) -> "BlockExecutor":
        """An executor for warp group n: its own loop variables, the block's memory."""
        ex = BlockExecutor(dict(self.env), self.storage, self.lanes, self.barriers, self.block)
        ex.thread_tags = self.thread_tags
        ex.group = n
        ex.grid_barrier = self.grid_barrier
        return ex

    def leads_tile_ops(self) -> bool:
        """Tile ops run once per block: here, unless warp groups run as separate executors;
        then in the lowest group of the enclosing T.ws (group 0 outside any)."""
        if self.group is None:
            return True
        return self.ws_leads[-1] if self.ws_leads else self.group == 0

    def run(self, s, mask):
        kind = type(s)
        if kind in _SIMPLE:
            self.guarded(_SIMPLE[kind], s, mask)
        elif kind in _COMPOUND:
            yield from _COMPOUND[kind](self, s, mask)
        elif kind in TILE_OPS:
            if any_active(mask) and self.leads_tile_ops():
                self.guarded(TILE_OPS[kind], s, mask)
        else:
            raise DeviceRuntimeError(f"the CPU backend cannot run a {kind.__name__} statement here", s.span)

    def guarded(self, fn, s, *args):
        """Call fn(self, s, *args); any failure becomes a DeviceRuntimeError at s's line."""
        try:
            return fn(self, s, *args)
        except DeviceRuntimeError as e:
            if e.span is None:
                e.span = s.span
                e.message = f"{e.message} ({self.block_text()})"
            raise
        except TileLangError:
            raise
        except Exception as e:  # numpy errors: report at the user's line
            raise DeviceRuntimeError(f"{type(e).__name__}: {e} ({self.block_text()})", s.span) from e

    def value(self, s, expr, mask):
        return self.guarded(lambda self, s: self.ev(expr, mask), s)

    # -- structure -----------------------------------------------------------------------
    def _seq(self, s, mask):
        for x in s.stmts:
            yield from self.run(x, mask)

    def _let(self, s, mask):
        self.env[s.var] = self.value(s, s.value, mask)
        yield from self.run(s.body, mask)

    def _if(self, s, mask):
        cond = self.value(s, s.condition, mask)
        if np.ndim(cond) == 0:
            body = s.then_body if cond else s.else_body
            if body is not None:
                yield from self.run(body, mask)
            return
        sides = [(s.then_body, mask_and(mask, cond))]
        if s.else_body is not None:
            sides.append((s.else_body, mask_and(mask, np.logical_not(cond))))
        sides = [(b, m) for b, m in sides if np.any(m)]
        if len(sides) == 1:
            yield from self.run(*sides[0])
        elif sides:
            yield from interleave(self.barriers, [self.run(b, m) for b, m in sides])

    def _warp_specialize(self, s, mask):
        groups = self.lanes // WARP_GROUP_SIZE
        m = mask_and(mask, np.isin(groups, s.warp_groups))
        if np.any(m):
            self.ws_leads.append(self.group is None or self.group == min(s.warp_groups))
            try:
                yield from self.run(s.body, m)
            finally:
                self.ws_leads.pop()

    def _while(self, s, mask):
        while True:
            cond = self.value(s, s.condition, mask)
            if np.ndim(cond) == 0:
                if not cond:
                    return
            else:
                mask = mask_and(mask, cond)
                if not np.any(mask):
                    return
            yield from self.run(s.body, mask)

    # -- loops ---------------------------------------------------------------------------
    def _for(self, s, mask):
        if s.kind == "parallel":
            yield from self._parallel(s, mask)
            return
        if s.kind == "thread":
            yield from self._thread_loop(s, mask)
            return
        lo, extent, step = (self.value(s, x, mask) for x in (s.min, s.extent, s.step))
        var = s.var
        if np.ndim(lo) == 0 and np.ndim(extent) == 0 and np.ndim(step) == 0:
            dtype = var.dtype.numpy.type
            lo, step = int(lo), int(step)
            for n in range(int(extent)):
                self.env[var] = dtype(lo + n * step)
                yield from self.run(s.body, mask)
            return
        # a trip count per thread (or T.Parallel iteration): run to the longest, each while in range
        count = np.asarray(extent)
        for n in range(int(np.max(count)) if count.size else 0):
            live = mask_and(mask, n < count)
            if not np.any(live):
                continue
            self.env[var] = values.cast(lo + n * step, var.dtype)
            yield from self.run(s.body, live)

    def _thread_loop(self, s, mask):
        tag = s.annotations.get("thread", "threadIdx.x")
        self.env[s.var] = self.env[self.thread_tags[tag]]
        yield from self.run(s.body, mask)

    def _parallel(self, s, mask):
        """A nest of T.Parallel loops as one vectorized step over its index grid."""
        loops = [s]
        while isinstance(loops[-1].body, S.For) and loops[-1].body.kind == "parallel":
            loops.append(loops[-1].body)
        if self.parallel_depth == 0:
            if not any_active(mask) or not self.leads_tile_ops():
                return
            if not self._per_thread_body(s):
                mask = None  # a tile loop: the block runs it once, whichever threads reach it
        k = len(loops)
        trailing = (1,) * (self.parallel_depth + 1)
        for j, loop in enumerate(loops):
            lo, extent, step = (self.value(loop, x, None) for x in (loop.min, loop.extent, loop.step))
            if np.ndim(lo) or np.ndim(extent) or np.ndim(step):
                raise DeviceRuntimeError("a T.Parallel extent differs between threads", loop.span)
            grid = np.arange(int(extent), dtype=loop.var.dtype.numpy) * int(step) + int(lo)
            shape = [1] * k
            shape[j] = int(extent)
            self.env[loop.var] = grid.reshape(tuple(shape) + trailing)
        self.parallel_depth += k
        try:
            yield from self.run(loops[-1].body, mask)
        finally:
            self.parallel_depth -= k

    def _per_thread_body(self, loop) -> bool:
        """Whether a T.Parallel body reads per-thread values (so each live thread runs it)."""
        free = _free_names(loop)
        return any(getattr(b, "memory_scope", None) in LANE_SCOPES for b in free) or \
            any(np.ndim(self.env.get(v, 0)) for v in free if isinstance(v, E.Var))

    # -- memory --------------------------------------------------------------------------
    def _store(self, s, mask):
        buf = s.buffer
        arr = self.storage_of(buf)
        idx = [self.ev(i, mask) for i in s.indices]
        val = self.ev(s.value, mask)
        if np.ndim(val) == 0 or val.dtype != arr.dtype:
            val = values.cast(val, buf.dtype)
        idx = self.element_index(buf, idx)
        if mask is None and val.ndim == 0 and all(np.ndim(i) == 0 for i in idx):
            key = tuple(int(i) for i in idx)
            if not all(0 <= k < n for k, n in zip(key, arr.shape)):
                raise DeviceRuntimeError(oob_message("write", buf, key[:buf.ndim], arr.shape[:buf.ndim]))
            arr[key] = val
            return
        idx, val = self._active(buf, arr, idx, val, mask, "write")
        arr[idx] = val

    def _atomic(self, s, mask):
        """A scalar atomic done by every thread (or T.Parallel iteration) that reaches it."""
        buf = s.buffer
        arr = self.storage_of(buf)
        idx = [self.ev(i, mask) for i in s.indices]
        val = values.cast(self.ev(s.value, mask), buf.dtype)
        idx = self.element_index(buf, idx)
        if self.parallel_depth == 0:  # every thread performs it
            val = np.broadcast_to(val, np.broadcast_shapes(np.shape(val), self.lanes.shape))
        idx, val = self._active(buf, arr, idx, val, mask, "atomic update")
        _UFUNC_AT[s.op].at(arr, idx, val)

    def _active(self, buf, arr, idx, val, mask, what):
        """Indices and values of the live elements, flattened; out-of-bounds ones raise."""
        shapes = [np.shape(i) for i in idx] + [np.shape(val)]
        if mask is not None:
            shapes.append(np.shape(mask))
        shape = np.broadcast_shapes(*shapes)
        idx = [np.broadcast_to(i, shape) for i in idx]
        val = np.broadcast_to(val, shape)
        lane = np.broadcast_to(np.arange(shape[-1]) if shape else np.zeros(()), shape)
        if mask is not None:
            m = np.broadcast_to(mask, shape)
            idx = [i[m] for i in idx]
            val = val[m]
            lane = lane[m]
        for i, n in zip(idx, arr.shape):
            if i.size and (i.min() < 0 or i.max() >= n):
                bad = np.ravel((i < 0) | (i >= n))
                where = tuple(int(np.ravel(j)[bad][0]) for j in idx[:buf.ndim])
                by_lane = shape and shape[-1] == self.lanes.size > 1
                who = f" by {self.lane_text(int(np.ravel(lane)[bad][0]))}" if by_lane else ""
                raise DeviceRuntimeError(oob_message(what, buf, where, arr.shape[:buf.ndim]) + who)
        return tuple(idx), val

    # -- intrinsics -----------------------------------------------------------------------
    def _evaluate(self, s, mask):
        call = s.value
        intrinsic = I.lookup(s)
        if intrinsic in _NO_OPS:
            return
        handler = _INTRINSICS.get(intrinsic)
        if handler is not None:
            yield from handler(self, s, call, mask)
            return
        self.value(s, call, mask)

    def per_thread(self, s, exprs, mask) -> np.ndarray:
        """The values of `exprs` on each live thread: an array (live threads, len(exprs))."""
        if self.parallel_depth:
            raise DeviceRuntimeError("mbarrier operations inside T.Parallel are not supported", s.span)
        cols = [np.broadcast_to(self.value(s, e, mask), self.lanes.shape) for e in exprs]
        table = np.stack(cols, axis=-1).astype(np.int64)
        return table if mask is None else table[np.broadcast_to(mask, self.lanes.shape)]

    def _mbarrier_arrive(self, s, call, mask):
        """One arrival per live thread; with expect_tx, each thread also adds its bytes."""
        load = call.args[0]
        exprs = [load.indices[0]] + ([call.args[1]] if I.MBARRIER_ARRIVE_EXPECT_TX.matches(call) else [])
        table = self.per_thread(s, exprs, mask)
        for index in np.unique(table[:, 0]):
            rows = table[table[:, 0] == index]
            if rows.shape[1] > 1:
                self.guarded(lambda self, s: self.barriers.expect_tx(load.buffer, int(index), int(rows[:, 1].sum())), s)
            self.guarded(lambda self, s: self.barriers.arrive(load.buffer, int(index), len(rows)), s)
        return
        yield

    def _mbarrier_expect_tx(self, s, call, mask):
        load = call.args[0]
        table = self.per_thread(s, [load.indices[0], call.args[1]], mask)
        for index in np.unique(table[:, 0]):
            nbytes = int(table[table[:, 0] == index, 1].sum())
            self.guarded(lambda self, s: self.barriers.expect_tx(load.buffer, int(index), nbytes), s)
        return
        yield

    def _mbarrier_wait(self, s, call, mask):
        """Blocks (yields) until every live thread's barrier phase of its parity completed."""
        load = call.args[0]
        pairs = np.unique(self.per_thread(s, [load.indices[0], call.args[1]], mask), axis=0)
        waits = [self.guarded(lambda self, s: self.barriers.get(load.buffer, int(i)), s) for i in pairs[:, 0]]
        while True:
            stuck = [(i, bar, int(p)) for i, bar, p in zip(pairs[:, 0], waits, pairs[:, 1]) if not bar.passed(int(p))]
            if not stuck:
                return
            i, bar, p = stuck[0]
            yield Waiting(s.span, f"{load.buffer.name}[{i}] is in phase {bar.phase} (parity {bar.phase & 1}) with "
                                  f"{bar.arrived} of {bar.count} arrivals" + (f" and {bar.tx} bytes pending" if bar.tx > 0
                                                                               else "") + f"; the wait is for parity {p}")

    def _sync_grid(self, s, call, mask):
        """Wait until every block of the grid has arrived here."""
        grid = self.grid_barrier
        generation = grid.arrive()
        while not grid.passed(generation):
            yield Waiting(s.span, f"{grid.arrived} of {grid.count} blocks (or warp groups) reached T.sync_grid")


@functools.lru_cache(maxsize=4096)
def _free_names(loop) -> tuple:
    """Vars and per-thread buffers a loop nest reads (its own loop vars excluded)."""
    own = {n.var for n in collect(loop, lambda n: isinstance(n, S.For))}
    found = collect(loop, lambda n: isinstance(n, (E.Var, E.BufferLoad, S.BufferStore)))
    names = {n for n in found if isinstance(n, E.Var) and n not in own}
    names |= {n.buffer for n in found if not isinstance(n, E.Var)}
    return tuple(names)


@dataclasses.dataclass
class Waiting:
    """What a blocked thread group yields: where it waits and on what."""

    span: object
    detail: str


def deadlock(waiting: Waiting, where: str) -> DeviceRuntimeError:
    return DeviceRuntimeError(
        f"deadlock in {where}: threads wait on a barrier that never completes (every other thread is "
        f"finished or waiting too): {waiting.detail}", waiting.span)


def interleave(barriers, gens):
    """Run diverged thread groups until all finish; yield a Waiting when every
    unfinished group is blocked and a whole round changed no barrier."""
    while gens:
        before = barriers.progress
        waiting, blocked = None, []
        for g in gens:
            try:
                waiting = next(g)
                blocked.append(g)
            except StopIteration:
                pass
        if len(blocked) == len(gens) and barriers.progress == before:
            yield waiting
        gens = blocked



_SIMPLE = {
    S.BufferStore: BlockExecutor._store,
    TOP.Atomic: BlockExecutor._atomic,
    TOP.DeviceAssert: lambda self, s, mask: run_assert(self, s, mask),
}
_COMPOUND = {
    S.SeqStmt: BlockExecutor._seq, S.LetStmt: BlockExecutor._let, S.IfThenElse: BlockExecutor._if,
    S.For: BlockExecutor._for, S.While: BlockExecutor._while, S.WarpSpecialize: BlockExecutor._warp_specialize,
    S.Evaluate: BlockExecutor._evaluate,
}
_INTRINSICS = {
    I.MBARRIER_ARRIVE: BlockExecutor._mbarrier_arrive, I.MBARRIER_WAIT_PARITY: BlockExecutor._mbarrier_wait,
    I.MBARRIER_EXPECT_TX: BlockExecutor._mbarrier_expect_tx,
    I.MBARRIER_ARRIVE_EXPECT_TX: BlockExecutor._mbarrier_arrive, I.GRID_BARRIER: BlockExecutor._sync_grid,
}
