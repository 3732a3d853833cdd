"""insert_syncs: __syncthreads between shared-memory accesses of different threads that conflict.

Before: lowered IR with smem_offsets (plan_shared_memory). After: a __syncthreads before each
statement that reads or writes shared bytes another statement since the last barrier wrote
(or writes bytes one read), loop-carried hazards included. Barriers only go where every thread
of the block arrives: a branch or loop whose condition depends on the thread is treated as one
statement, and the barrier goes before it.
"""
from __future__ import annotations

import dataclasses

from ...ir import expr as E
from ...ir import intrinsics as I
from ...ir import stmt as S
from ...ir.function import PrimFunc
from ...ir.visitor import Mutator, Visitor
from ...ir.scope import Scope


def sync_stmt() -> S.Evaluate:
    return I.BLOCK_BARRIER.stmt()


def _is_sync(s) -> bool:
    intrinsic = I.lookup(s) if isinstance(s, S.Evaluate) else None
    return intrinsic is not None and intrinsic.is_barrier


def _destination(call: E.Call, intrinsic) -> E.BufferLoad | None:
    """The element the first address argument after the template arguments points at."""
    for a in call.args[intrinsic.template_args:]:
        if I.lookup(a) is I.ADDRESS_OF and isinstance(a.args[0], E.BufferLoad):
            return a.args[0]
    return None


class _Accesses(Visitor):
    """(lo, hi, is_write) byte ranges of the shared arena a subtree touches."""

    def __init__(self, ranges):
        self.ranges = ranges
        self.found = []

    def add(self, buffer, write):
        r = self.ranges.get(buffer)
        if r is not None:
            self.found.append((r[0], r[1], write, False, True))

    def visit_BufferLoad(self, e):
        self.add(e.buffer, False)
        self.generic_visit(e)

    def visit_BufferStore(self, s):
        self.add(s.buffer, True)
        self.generic_visit(s)

    def visit_Call(self, e):
        intrinsic = I.lookup(e)
        effects = intrinsic.effects if intrinsic is not None else I.Effect.NONE
        if effects & I.Effect.ASYNC_ISSUE:
            # an async copy must not overwrite what other threads still read (checked against
            # earlier accesses), but it lands later: its readers wait on cp_async_wait / an
            # mbarrier followed by the pipeline's own barrier, so it leaves nothing pending
            dst = _destination(e, intrinsic)
            if dst is not None:
                r = self.ranges.get(dst.buffer)
                if r is not None:
                    self.found.append((r[0], r[1], True, False, False))
            return
        writes = bool(effects & I.Effect.WRITES_MEMORY)
        for n, a in enumerate(e.args):
            if I.lookup(a) is I.ADDRESS_OF and isinstance(a.args[0], E.BufferLoad):
                load = a.args[0]
                self.add(load.buffer, writes and n == (intrinsic.template_args if intrinsic else 0))
                for i in load.indices:
                    self.visit(i)
            else:
                self.visit(a)


def _conflict(acc, pending) -> bool:
    for lo, hi, w, ws, _ in acc:
        for plo, phi, pw, pws, _ in pending:
            if (w or pw) and lo < phi and plo < hi and not (ws and pws):
                return True
    return False


class _Uniform(Visitor):
    def __init__(self, thread_vars):
        self.thread_vars = thread_vars
        self.uniform = True

    def visit_Var(self, v):
        if v in self.thread_vars:
            self.uniform = False

    def visit_BufferLoad(self, e):
        if e.buffer.memory_scope != Scope.GLOBAL:
            self.uniform = False
        self.generic_visit(e)


class _Inserter:
    def __init__(self, ranges, thread_vars, ws_blocks=()):
        self.ranges = ranges
        self.thread_vars = set(thread_vars)
        self.ws_blocks = {id(b) for b in ws_blocks}

    def uniform(self, *exprs) -> bool:
        u = _Uniform(self.thread_vars)
        for e in exprs:
            u.visit(e)
        return u.uniform

    def accesses(self, s):
        a = _Accesses(self.ranges)
        a.visit(s)
        return a.found

    def block(self, s, pending):
        """(new statement, pending accesses after it)."""
        stmts = _flatten(s)
        out = []
        pending = list(pending)
        for x in stmts:
            if _is_sync(x):
                out.append(x)
                pending = []
                continue
            # loops made by lowering a tile op (and vectorized ones) have no hazards inside: opaque
            if (isinstance(x, S.For) and x.kind in ("serial", "unroll") and not x.annotations.get("lowered")
                    and self.uniform(x.min, x.extent)):
                if _conflict(self.accesses(S.seq(_before_first_sync(x.body))), pending):
                    # a hazard with what came before the loop: one barrier before it, not one per iteration
                    # (accesses after the body's own first barrier are ordered by it)
                    out.append(sync_stmt())
                    pending = []
                body, pending = self.loop(x, pending)
                out.append(dataclasses.replace(x, body=body))
                continue
            if isinstance(x, S.IfThenElse) and self.uniform(x.condition):
                if _conflict(self.accesses(x.condition), pending):
                    out.append(sync_stmt())
                    pending = []
                then, p1 = self.block(x.then_body, pending)
                other, p2 = (self.block(x.else_body, pending) if x.else_body is not None else (None, pending))
                out.append(dataclasses.replace(x, then_body=then, else_body=other))
                pending = _union(p1, p2)
                continue
            if isinstance(x, S.LetStmt) and self.uniform(x.value):
                body, pending = self.block(x.body, pending)
                out.append(dataclasses.replace(x, body=body))
                continue
            acc = self.accesses(x)
            if id(x) in self.ws_blocks:
                # warp-specialized groups hand shared data to each other through mbarriers
                # (the program's own); only later block-wide code needs a barrier after them
                acc = [(lo, hi, w, True, p) for lo, hi, w, _, p in acc]
            if _conflict(acc, pending):
                out.append(sync_stmt())
                pending = []
            out.append(x)
            pending = _union(pending, [a for a in acc if a[4]])
        return S.seq(out) if len(out) != 1 else out[0], pending

    def loop(self, x: S.For, pending):
        _, tail = self.block(x.body, [])
        body, end = self.block(x.body, _union(pending, tail))
        return body, _union(end, pending)


def _flatten(s) -> list:
    if not isinstance(s, S.SeqStmt):
        return [s]
    out = []
    for x in s.stmts:
        out.extend(_flatten(x))
    return out


def _before_first_sync(body) -> list:
    stmts = _flatten(body)
    first = next((n for n, x in enumerate(stmts) if _is_sync(x)), len(stmts))
    return stmts[:first]


def _union(a, b):
    seen = set(a)
    out = list(a)
    for x in b:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


class _Insert(Mutator):
    def __init__(self, ws_blocks=()):
        self.ws_blocks = ws_blocks

    def visit_KernelLaunch(self, k):
        offsets = k.annotations.get("smem_offsets", {})
        ranges = {}
        for b, off in offsets.items():
            if b.memory_scope == Scope.BARRIER:
                continue
            n = 1
            for s in b.shape:
                n *= int(s)
            ranges[b] = (off, off + n * b.dtype.bytes)
        if not ranges:
            return k
        body, _ = _Inserter(ranges, k.thread_vars, self.ws_blocks).block(k.body, [])
        return dataclasses.replace(k, body=body)


def insert_syncs(func: PrimFunc, ctx=None) -> PrimFunc:
    if ctx is not None and ctx.pass_configs.get("tl.disable_thread_storage_sync"):
        return func
    return func.with_body(_Insert(getattr(ctx, "ws_blocks", ())).visit(func.body))
