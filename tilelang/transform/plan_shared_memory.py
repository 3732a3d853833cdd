"""plan_shared_memory: every shared buffer gets a byte offset in one dynamic arena.

Before: lowered IR whose KernelLaunch allocates 1-D `shared.dyn` buffers and barriers.
After: KernelLaunch.annotations["smem_offsets"] = {buffer: offset}, ["smem_bytes"] = total.
Buffers whose live ranges (spans of top-level statements of the kernel body that touch them)
do not overlap share bytes; insert_syncs orders the reuse. Offsets are 128-byte aligned, and
1024-byte aligned for tiles of 1 KiB or more (what TMA / wgmma swizzles need).
"""
from __future__ import annotations

import dataclasses

from ..ir import stmt as S
from ..ir.buffer import Buffer
from ..ir.function import PrimFunc
from ..ir.visitor import Mutator, Visitor
from ..ir.scope import Scope


class _Uses(Visitor):
    def __init__(self, wanted):
        self.wanted = wanted
        self.found = set()

    def visit_buffer(self, b):
        if b in self.wanted:
            self.found.add(b)


def _nbytes(b: Buffer) -> int:
    n = 1
    for s in b.shape:
        n *= int(s)
    return n * (8 if b.memory_scope == Scope.BARRIER else b.dtype.bytes)


def plan(k: S.KernelLaunch, reuse: bool = True):
    shared = [b for b in k.allocations if b.memory_scope.is_shared_memory]
    if not shared:
        return {}, 0
    stmts = k.body.stmts if isinstance(k.body, S.SeqStmt) else (k.body,)
    live = {}
    wanted = set(shared)
    for pos, s in enumerate(stmts):
        u = _Uses(wanted)
        u.visit(s)
        for b in u.found:
            lo, hi = live.get(b, (pos, pos))
            live[b] = (min(lo, pos), max(hi, pos))
    for b in shared:
        if b.memory_scope == Scope.BARRIER or not reuse or b not in live:
            live[b] = (0, len(stmts))
    placed = []  # (offset, end, lo, hi)
    offsets = {}
    for b in sorted(shared, key=lambda b: (-_nbytes(b), b.name)):
        size = _nbytes(b)
        align = 1024 if size >= 1024 else (128 if b.memory_scope != Scope.BARRIER else 16)
        lo, hi = live[b]
        off = 0
        for o, e, l2, h2 in sorted(placed):
            if h2 < lo or hi < l2:
                continue
            if off + size <= o or off >= e:
                continue
            off = -(-e // align) * align
        off = -(-off // align) * align
        offsets[b] = off
        placed.append((off, off + size, lo, hi))
    total = max(e for _, e, _, _ in placed)
    return offsets, -(-total // 128) * 128


class _Plan(Mutator):
    def __init__(self, reuse):
        self.reuse = reuse

    def visit_KernelLaunch(self, k):
        offsets, total = plan(k, self.reuse)
        ann = dict(k.annotations)
        ann["smem_offsets"] = offsets
        ann["smem_bytes"] = total
        return dataclasses.replace(k, annotations=ann)


def plan_shared_memory(func: PrimFunc, ctx=None) -> PrimFunc:
    reuse = True
    if ctx is not None and ctx.pass_configs.get("tir.disable_storage_rewrite"):
        reuse = False
    return func.with_body(_Plan(reuse).visit(func.body))
