"""Running a kernel launch: blocks of the grid one after another, each with fresh shared
memory, fragments, per-thread buffers and barriers."""
from __future__ import annotations

import itertools

import numpy as np

from ...errors import DeviceRuntimeError
from ...ir import expr as E
from ...ir import stmt as S
from ...ir.stmt import WARP_GROUP_SIZE
from ...ir.visitor import collect
from .barriers import BarrierSet
from .evaluator import LANE_SCOPES, Evaluator
from .executor import BlockExecutor


def _warp_specialized(body) -> bool:
    """T.ws blocks whose threads wait on mbarriers: their warp groups must run independently."""
    has_ws = collect(body, lambda n: isinstance(n, S.WarpSpecialize))
    waits = collect(body, lambda n: isinstance(n, E.Call) and n.name == "mbarrier_wait_parity")
    return bool(has_ws and waits)


_TAGS = ("threadIdx.x", "threadIdx.y", "threadIdx.z")


def _int(ev, e, what, span) -> int:
    v = ev.ev(e)
    if np.ndim(v) != 0:
        raise DeviceRuntimeError(f"the {what} `{e!r}` is not a single number", span)
    return int(v)


def run_launch(launch: S.KernelLaunch, env: dict, storage: dict) -> None:
    host = Evaluator(env, storage, np.zeros(1, np.int32))
    grid = [_int(host, g, "grid extent", launch.span) for g in launch.grid]
    threads = launch.threads
    num_threads = int(np.prod(threads))
    lanes = np.arange(num_threads, dtype=np.int32)
    thread_values, stride = [], 1
    for t in threads:
        thread_values.append((lanes // stride) % t)
        stride *= t
    shapes = {buf: tuple(_int(host, d, f"extent of {buf.name}", buf.span) for d in buf.shape)
              for buf in launch.allocations}
    num_groups = -(-num_threads // WARP_GROUP_SIZE) if _warp_specialized(launch.body) else 1
    for block in itertools.product(*(range(n) for n in reversed(grid))):
        block = tuple(reversed(block))  # blockIdx.x varies fastest
        block_env = dict(env)
        for var, b in zip(launch.block_vars, block):
            block_env[var] = np.int32(b)
        for var, values in zip(launch.thread_vars, thread_values):
            block_env[var] = values
        block_storage = dict(storage)
        barriers = BarrierSet()
        for buf in launch.allocations:
            shape = shapes[buf]
            if buf.memory_scope == "shared.barrier":
                barriers.allocate(buf)
            if buf.memory_scope in LANE_SCOPES:
                shape = shape + (num_threads,)
            block_storage[buf] = np.zeros(shape, dtype=buf.dtype.numpy)
        names = {var.name: b for var, b in zip(launch.block_vars, block)}
        ex = BlockExecutor(block_env, block_storage, lanes, barriers, names)
        ex.thread_tags = dict(zip(_TAGS, launch.thread_vars))
        groups = [ex.for_warp_group(n) for n in range(num_groups)] if num_groups > 1 else None
        ex.run_block(launch.body, groups)
