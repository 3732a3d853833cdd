"""software_pipeline: T.Pipelined(n, num_stages=S) -> multi-buffered, prefetching serial loop.

Before: tile IR; `For(kind="pipelined", annotations num_stages=S)` whose body's top-level
`T.copy(global -> shared)` ops load the tiles the rest of the body computes on.
After, for S >= 2 (a loop over k in [lo, lo + n)):

    # prologue: iterations 0 .. S-2, one commit group each (empty when past the end)
    if s < n: T.copy(src(lo + s), X[s, ...])  [async]      for s in 0 .. S-2
    T.cp_async_commit()
    for k in T.serial(lo, lo + n):
        T.cp_async_wait(S - 2)   # the group of iteration k has landed ...
        T.sync_threads()        # ... for every thread, and iteration k-1 is done with its stage
        if k + S - 1 < lo + n: T.copy(src(k + S - 1), X[(k - lo + S - 1) % S, ...])  [async]
        T.cp_async_commit()
        <the rest of the body, X read as X[(k - lo) % S, ...]>

Each shared buffer X written by a prefetched copy becomes a new buffer of shape (S, *shape)
(the KernelLaunch allocation is replaced), every use in the loop indexed by the stage. The
prefetched copies are `Copy(annotations={"async": True})` (lower_copy makes them cp.async).
The explicit block barrier is one insert_syncs recognizes, so it adds none there.

The rewritten loop carries `annotations["pipeline_stages"] = S`: its body begins with the head
above (wait, barrier, the guarded issue, commit), which `transform/rotate_pipeline.py` may move
across the end of the body on the lowered IR.

A copy stays an ordinary copy in place (still correct, not overlapped) when its source
depends on anything the loop body computes (a let, a local.var or buffer written in the loop),
its destination is used outside the loop or written by other statements of the loop. Loops
with num_stages < 2 or no prefetchable copy become plain serial loops. The result always equals
the sequential loop (DESIGN rule 9). The order / stage / group annotations are accepted and
ignored: copies are issued first, in program order.
"""
from __future__ import annotations

import dataclasses

from ..ir import expr as E
from ..ir import intrinsics as I
from ..ir import stmt as S
from ..ir import tileop as TOP
from ..ir.buffer import Buffer, BufferRegion, Range
from ..ir.function import PrimFunc
from ..ir.visitor import Mutator, Visitor, substitute
from .context import PassContext
from ..layout import Layout, stacked
from ..ir.scope import SHARED_SCOPES, Scope

PIPELINE_KEYS = ("num_stages", "order", "stage", "group", "sync")


def software_pipeline(func: PrimFunc, ctx: PassContext) -> PrimFunc:
    """Rewrite every T.Pipelined loop with num_stages >= 2 (see the module docstring)."""
    body = _Kernels().visit(func.body)
    return func if body is func.body else func.with_body(body)


# ------------------------------------------------------------------------------ analyses
class _Refs(Visitor):
    """Buffers referenced (by identity, with counts), buffers written, vars bound."""

    def __init__(self):
        self.refs: dict = {}
        self.written: set = set()
        self.bound: set = set()

    def ref(self, buffer):
        self.refs[buffer] = self.refs.get(buffer, 0) + 1

    def visit_buffer(self, buffer):
        self.ref(buffer)

    def visit_BufferRegion(self, r):
        self.ref(r.buffer)
        for rg in r.region:
            self.visit(rg)

    def visit_BufferLoad(self, e):
        self.ref(e.buffer)
        self.visit(e.indices)

    def visit_BufferStore(self, s):
        self.ref(s.buffer)
        self.written.add(s.buffer)
        self.visit(s.indices)
        self.visit(s.value)

    def visit_Atomic(self, s):
        self.written.add(s.buffer)
        self.generic_visit(s)

    def visit_LetStmt(self, s):
        self.bound.add(s.var)
        self.generic_visit(s)

    def visit_For(self, s):
        self.bound.add(s.var)
        self.generic_visit(s)

    def generic_visit(self, node):
        if isinstance(node, TOP.TileOp):
            for r in node.writes():
                if isinstance(r, BufferRegion):
                    self.written.add(r.buffer)
        return super().generic_visit(node)


def _refs(node) -> _Refs:
    v = _Refs()
    v.visit(node)
    return v


def _vars_and_loads(node):
    vs, loads = set(), set()

    class V(Visitor):
        def visit_Var(self, e):
            vs.add(e)

        def visit_BufferLoad(self, e):
            loads.add(e.buffer)
            self.visit(e.indices)

    V().visit(node)
    return vs, loads


# ------------------------------------------------------------------------------ rewriting
class _Versioned(Mutator):
    """Uses of multi-versioned buffers get the stage index in front."""

    def __init__(self, versions: dict, stage: E.Expr):
        self.versions = versions
        self.stage = stage

    def visit_BufferLoad(self, e):
        idx = self.visit(e.indices)
        new = self.versions.get(e.buffer)
        if new is None:
            return e if idx is e.indices else E.BufferLoad(e.dtype, e.buffer, idx)
        return E.BufferLoad(e.dtype, new, (self.stage,) + tuple(idx))

    def visit_BufferStore(self, s):
        idx, value = self.visit(s.indices), self.visit(s.value)
        new = self.versions.get(s.buffer)
        if new is None:
            if idx is s.indices and value is s.value:
                return s
            return dataclasses.replace(s, indices=idx, value=value)
        return dataclasses.replace(s, buffer=new, indices=(self.stage,) + tuple(idx), value=value)

    def visit_BufferRegion(self, r):
        region = self.visit(r.region)
        new = self.versions.get(r.buffer)
        if new is None:
            return r if region is r.region else BufferRegion(r.buffer, region)
        return BufferRegion(new, (Range(self.stage, E.const(1)),) + tuple(region))


def _peel_lets(body):
    """(let bindings [(var, value, span)], the statements under them)."""
    lets = []
    while isinstance(body, S.LetStmt):
        lets.append((body.var, body.value, body.span))
        body = body.body
    stmts = list(body.stmts) if isinstance(body, S.SeqStmt) else [body]
    return lets, stmts


def _wrap_lets(lets, body):
    for var, value, span in reversed(lets):
        body = S.LetStmt(var, value, body, span=span)
    return body


def _staged_layout(layout, buffer):

    if isinstance(layout, Layout) and len(layout.shape) + 1 == len(buffer.shape):
        return stacked(layout, int(buffer.shape[0]))
    return layout


def _plain(loop: S.For) -> S.For:
    ann = {k: v for k, v in loop.annotations.items() if k not in PIPELINE_KEYS}
    return dataclasses.replace(loop, kind="serial", annotations=ann)


class _Kernels(Mutator):
    def visit_KernelLaunch(self, k: S.KernelLaunch):
        self.kernel_refs = _refs(k.body).refs
        self.replaced = {}
        body = self.visit(k.body)
        if body is k.body:
            return k
        allocations = tuple(self.replaced.get(b, b) for b in k.allocations)
        annotations = dict(k.annotations)
        if annotations.get("layout_map"):  # T.annotate_layout of a staged buffer: one copy per stage
            annotations["layout_map"] = {self.replaced.get(b, b): _staged_layout(lay, self.replaced.get(b, b))
                                         for b, lay in annotations["layout_map"].items()}
        return dataclasses.replace(k, body=body, allocations=allocations, annotations=annotations)

    def visit_For(self, loop: S.For):
        loop = self.generic_visit(loop)
        if loop.kind != "pipelined":
            return loop
        stages = int(loop.annotations.get("num_stages", 0) or 0)
        if stages < 2 or not E.is_const(loop.step, 1):
            return _plain(loop)
        return self.pipeline(loop, stages)

    def pipeline(self, loop: S.For, stages: int) -> S.Stmt:
        lets, stmts = _peel_lets(loop.body)
        loop_refs = _refs(loop.body)
        let_values = {}
        for var, value, _ in lets:
            let_values[var] = substitute(value, let_values)
        inner_bound = loop_refs.bound - set(let_values)
        prefetch = [n for n, s in enumerate(stmts) if self.prefetchable(s, loop_refs, inner_bound, stmts, let_values)]
        # a destination is multi-versioned only when every copy into it is prefetched
        for n, s in enumerate(stmts):
            if n not in prefetch and isinstance(s, TOP.Copy):
                prefetch = [p for p in prefetch if stmts[p].dst.buffer is not s.dst.buffer]
        if not prefetch:
            return _plain(loop)
        versions = {}
        for n in prefetch:
            buf = stmts[n].dst.buffer
            if buf not in versions:
                versions[buf] = Buffer(buf.name, (E.const(stages),) + tuple(buf.shape), buf.dtype, buf.memory_scope,
                                       span=buf.span)
        self.replaced.update(versions)

        k, lo, extent = loop.var, loop.min, loop.extent
        end = lo + extent

        def issue(iteration, stage, guard):
            """The prefetched copies of `iteration` (an expression of k) into `stage`."""
            out = []
            for n in prefetch:
                cp = stmts[n]
                cp = substitute(substitute(cp, let_values), {k: iteration})
                cp = _Versioned(versions, stage).visit(cp)
                cp = dataclasses.replace(cp, annotations={**cp.annotations, "async": True})
                out.append(cp)
            body = S.seq(out)
            if isinstance(guard, E.IntImm):
                return body if guard.value else None
            return S.IfThenElse(guard, body, span=loop.span)

        prologue = []
        for s in range(stages - 1):
            prologue.append(issue(lo + s, E.const(s), E.const(s) < extent))
            prologue.append(I.ASYNC_COMMIT.stmt())
        rest = [s for n, s in enumerate(stmts) if n not in prefetch]
        ahead = k + (stages - 1)
        head = [I.ASYNC_WAIT.stmt(stages - 2), I.BLOCK_BARRIER.stmt(),
                issue(ahead, (ahead - lo) % stages, ahead < end), I.ASYNC_COMMIT.stmt()]
        rest = [_Versioned(versions, (k - lo) % stages).visit(s) for s in rest]
        body = S.seq(head + [_wrap_lets(lets, S.seq(rest))])
        plain = _plain(loop)
        new_loop = dataclasses.replace(plain, body=body, annotations={**plain.annotations, "pipeline_stages": stages})
        return S.SeqStmt(tuple(x for x in prologue if x is not None) + (new_loop,), span=loop.span)

    def prefetchable(self, s, loop_refs, inner_bound, stmts, let_values) -> bool:
        if not isinstance(s, TOP.Copy):
            return False
        src, dst = s.src.buffer, s.dst.buffer
        if src.memory_scope != Scope.GLOBAL or dst.memory_scope not in SHARED_SCOPES:
            return False
        # the destination lives only in this loop, and only copies from global memory write it
        if self.kernel_refs.get(dst, 0) != loop_refs.refs.get(dst, 0):
            return False
        for other in stmts:
            if other is s or not dst in _refs(other).written:
                continue
            if not (isinstance(other, TOP.Copy) and other.dst.buffer is dst and other.src.buffer.memory_scope == Scope.GLOBAL):
                return False
        # the source may depend on the loop variable, but on nothing the loop body computes
        vs, loads = _vars_and_loads(substitute((s.src, s.dst), let_values))
        if vs & inner_bound or src in loop_refs.written:
            return False
        return not any(b in loop_refs.written for b in loads)
