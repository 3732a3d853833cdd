"""rotate_pipeline: overlap a software-pipelined loop's barrier with the end of its body.

Before: lowered IR; loops from software_pipeline carry `annotations["pipeline_stages"] = S`
and their body is the head H(k) = [wait<S-2>, barrier, if k + S - 1 < end: issue the copies of
iteration k + S - 1, commit] followed by the rest R(k). The loop runs H(lo) R(lo) H(lo+1) ...

After, where R ends with statements T that commute with H (no shared memory, no barrier or
async effect, no buffer H uses written): H(lo) is peeled into the prologue (issue first, then
wait<S-1> and the barrier: the slot it fills was never read) and the body becomes

    R'(k)  H(k + 1)  T(k)          (H(lo + n) at the end only waits: its issue is guarded)

so the copies into the slot stage k just finished reading start before T runs, and every slot
holds a stage in flight. When R starts with a statement X that only loads registers from
shared memory (its intrinsic reads memory and does nothing else, its registers are not used by
T nor outside the loop), X is rotated too: X(lo) after the prologue's barrier, and

    R'(k) = R(k) without X,   body: R'(k)  H(k + 1)  X(k + 1)  T(k)

(X(lo + n) runs once more, reading a stale slot into dead registers). For the mma.sync gemm,
X = gemm_ss_load_step0, T = gemm_mma_last: the next stage's first fragments load right after
the barrier and their latency hides behind the last MMAs (CUTLASS's mainloop order).
Whenever a condition fails the loop stays as it is.
"""
from __future__ import annotations

import dataclasses

from ..arith import simplify
from ..ir import expr as E
from ..ir import intrinsics as I
from ..ir import stmt as S
from ..ir.function import PrimFunc
from ..ir.visitor import Mutator, Visitor, substitute
from ..ir.scope import SHARED_SCOPES, Scope
from .context import PassContext

REGISTER_SCOPES = (Scope.LOCAL, Scope.FRAGMENT, Scope.VAR)
_ORDERING = (I.Effect.BLOCK_BARRIER | I.Effect.ASYNC_ISSUE | I.Effect.ASYNC_COMMIT | I.Effect.ASYNC_WAIT
             | I.Effect.MBARRIER | I.Effect.FENCE | I.Effect.REGISTERS)
_PURE_CALLS = (I.ADDRESS_OF, I.REINTERPRET)


def rotate_pipeline(func: PrimFunc, ctx: PassContext) -> PrimFunc:
    """Rotate every loop software_pipeline made whose body has the shape above."""
    body = _Rotate().visit(func.body)
    return func if body is func.body else func.with_body(body)


# ------------------------------------------------------------------------------ effects
@dataclasses.dataclass
class Effects:
    """What a statement touches: buffers read / written (registers count as both), whether it
    orders memory or threads (barriers, async copies, fences) or calls something unknown."""
    reads: set = dataclasses.field(default_factory=set)
    writes: set = dataclasses.field(default_factory=set)
    ordering: bool = False
    only_register_loads: bool = True   # one intrinsic call reading memory into registers, nothing else

    @property
    def buffers(self) -> set:
        return self.reads | self.writes

    def shared(self) -> bool:
        return any(b.memory_scope in SHARED_SCOPES for b in self.buffers)


class _EffectsOf(Visitor):
    def __init__(self):
        self.fx = Effects()

    def visit_BufferLoad(self, e):
        self.fx.reads.add(e.buffer)
        self.fx.only_register_loads = False
        self.visit(e.indices)

    def visit_BufferStore(self, s):
        self.fx.writes.add(s.buffer)
        self.fx.only_register_loads = False
        self.visit(s.indices)
        self.visit(s.value)

    def visit_Call(self, e):
        intrinsic = I.lookup(e)
        effects = intrinsic.effects if intrinsic is not None else None
        if intrinsic is None:  # an extern call: assume it does anything
            effects = I.Effect.READS_MEMORY | I.Effect.WRITES_MEMORY | I.Effect.FENCE
        if effects is not None and effects & _ORDERING:
            self.fx.ordering = True
        if effects is None or effects & ~I.Effect.READS_MEMORY:
            self.fx.only_register_loads = False
        for a in e.args:
            if isinstance(a, E.Call) and a.name == "address_of" and isinstance(a.args[0], E.BufferLoad):
                load = a.args[0]
                if load.buffer.memory_scope in REGISTER_SCOPES:
                    self.fx.reads.add(load.buffer)
                    self.fx.writes.add(load.buffer)
                else:
                    self.fx.reads.add(load.buffer)
                    if effects is None or effects & I.Effect.WRITES_MEMORY:
                        self.fx.writes.add(load.buffer)
                    if load.buffer.memory_scope not in SHARED_SCOPES:
                        self.fx.only_register_loads = False
                self.visit(load.indices)
            elif not isinstance(a, str):
                self.visit(a)

    def visit_For(self, s):
        self.fx.only_register_loads = False
        self.generic_visit(s)

    def visit_IfThenElse(self, s):
        self.fx.only_register_loads = False
        self.generic_visit(s)


def effects(stmt) -> Effects:
    v = _EffectsOf()
    v.visit(stmt)
    return v.fx


def commute(first, second) -> bool:
    """Whether two statements may swap: no ordering effect in `first`, and no buffer one of
    them writes that the other uses. `first` must also stay away from shared memory: the
    other threads see it only through barriers."""
    a, b = effects(first), effects(second)
    if a.ordering or a.shared():
        return False
    return not (a.writes & b.buffers or b.writes & a.buffers)


# ------------------------------------------------------------------------------ the rewrite
def _flatten(stmt) -> list:
    if isinstance(stmt, S.SeqStmt):
        return [x for s in stmt.stmts for x in _flatten(s)]
    return [stmt]


def _is(stmt, intrinsic) -> bool:
    return intrinsic.matches(stmt)


def _wait(like: S.Evaluate, n: int) -> S.Evaluate:
    """An async wait for n groups, where `like` stood."""
    return I.ASYNC_WAIT.stmt(n, span=like.span)


def _free_vars(node) -> set:
    found = set()

    class V(Visitor):
        def visit_Var(self, e):
            found.add(e)

    V().visit(node)
    return found


def _bound_vars(node) -> set:
    found = set()

    class V(Visitor):
        def visit_LetStmt(self, s):
            found.add(s.var)
            self.generic_visit(s)

        def visit_For(self, s):
            found.add(s.var)
            self.generic_visit(s)

    V().visit(node)
    return found


class _Rotate(Mutator):
    def visit_KernelLaunch(self, k: S.KernelLaunch):
        self.kernel = k
        return self.generic_visit(k)

    def visit_SeqStmt(self, seq: S.SeqStmt):
        stmts = [self.visit(s) for s in seq.stmts]
        out, changed = [], any(a is not b for a, b in zip(stmts, seq.stmts))
        for s in stmts:
            rotated = self.rotate(s, out) if isinstance(s, S.For) and "pipeline_stages" in s.annotations else None
            if rotated is None:
                out.append(s)
            else:
                out[:] = rotated
                changed = True
        return dataclasses.replace(seq, stmts=tuple(out)) if changed else seq

    def rotate(self, loop: S.For, before: list) -> list | None:
        """`before` + the rotated loop, or None when the loop keeps its schedule."""
        stages = int(loop.annotations["pipeline_stages"])
        body = _flatten(loop.body)
        if len(body) < 5:
            return None
        wait, barrier, issue, commit = body[:4]
        if not (_is(wait, I.ASYNC_WAIT) and _is(barrier, I.BLOCK_BARRIER) and _is(commit, I.ASYNC_COMMIT)
                and isinstance(issue, S.IfThenElse) and issue.else_body is None):
            return None
        k, end = loop.var, loop.min + loop.extent
        head = body[:4]
        # H(lo + n), run after the last iteration, must issue nothing
        if not E.is_const(simplify(substitute(issue.condition, {k: end})), 0):
            return None
        rest = body[4:]
        tail = len(rest)
        while tail > 0 and all(commute(rest[tail - 1], h) for h in head):
            tail -= 1
        if tail == len(rest) or tail == 0:
            return None
        front, trailing = rest[:tail], rest[tail:]
        ahead = [substitute(s, {k: k + 1}) for s in head]
        start = _flatten(_guarded(substitute(issue, {k: loop.min}))) + [commit, _wait(wait, stages - 1), barrier]
        if not self.issue_first_ok(issue, before):
            start = [substitute(s, {k: loop.min}) for s in head]
        x = front[0]
        if self.rotatable(x, trailing, loop):
            start.append(substitute(x, {k: loop.min}))
            new_body = front[1:] + ahead + [substitute(x, {k: k + 1})] + trailing
        else:
            new_body = front + ahead + trailing
        new_loop = dataclasses.replace(loop, body=S.seq(new_body))
        return before + start + [new_loop]

    def issue_first_ok(self, issue, before) -> bool:
        """The peeled head may issue before it waits when nothing before the loop uses the
        slots it fills but the prologue's async copies (so no earlier reader needs the barrier)."""
        staged = {b for b in effects(issue).writes if b.memory_scope in SHARED_SCOPES}
        return all(_only_async_copies(s) for s in before if effects(s).buffers & staged)

    def rotatable(self, x, trailing, loop) -> bool:
        """X only loads registers from shared memory, T leaves those registers alone, and they
        are dead outside the loop (X runs once before it and once past its end)."""
        fx = effects(x)
        if not isinstance(x, S.Evaluate) or not fx.only_register_loads or fx.ordering:
            return False
        registers = {b for b in fx.writes if b.memory_scope in REGISTER_SCOPES}
        if not registers or any(b.memory_scope not in SHARED_SCOPES + REGISTER_SCOPES for b in fx.buffers):
            return False
        if _free_vars(x) & _bound_vars(loop.body):
            return False
        if any(not commute(t, x) for t in trailing):
            return False
        outside = effects(_without(self.kernel.body, loop)).buffers
        return not (registers & outside)


def _guarded(issue: S.IfThenElse) -> S.Stmt:
    """The issue with its guard decided where it is constant."""
    cond = simplify(issue.condition)
    if isinstance(cond, E.IntImm):
        return issue.then_body if cond.value else S.SeqStmt(())
    return dataclasses.replace(issue, condition=cond)


def _only_async_copies(stmt) -> bool:
    """Whether every call in `stmt` issues or commits async copies and it stores nothing."""
    ok = [True]

    class V(Visitor):
        def visit_BufferStore(self, s):
            ok[0] = False

        def visit_Call(self, e):
            intrinsic = I.lookup(e)
            if intrinsic not in _PURE_CALLS:
                ok[0] &= intrinsic is not None and bool(intrinsic.effects & (I.Effect.ASYNC_ISSUE | I.Effect.ASYNC_COMMIT))
            self.generic_visit(e)

    V().visit(stmt)
    return ok[0]


class _Drop(Mutator):
    def __init__(self, loop):
        self.loop = loop

    def visit_For(self, s):
        if s is self.loop:
            return S.Evaluate(E.const(0))
        return self.generic_visit(s)


def _without(tree, loop):
    return _Drop(loop).visit(tree)
