"""lower_tile_ops: tile ops and T.Parallel -> thread-level IR.

Before: tile IR with a LayoutMap for every shared / fragment buffer and parallel loop.
After: no TileOps, no parallel loops, no WarpSpecialize; fragments are per-thread local
arrays, shared buffers 1-D (offsets from their Layout), locals flat; every buffer access goes
to the lowered storage. Per-op lowerings live in one module per op beside this one, each
registered in `registry.LOWERINGS` by `@lowering(TileOpClass)`.
"""
from __future__ import annotations

from ....errors import CompileError, TileLangError
from ....ir import expr as E
from ....ir import intrinsics as I
from ....ir import stmt as S
from ....ir import tileop as TOP
from ....ir.function import PrimFunc
from ....ir.visitor import Mutator
from ....ir.visitor import substitute
from . import copy, fill, gemm, printing, reduce, tma  # noqa: F401  (each registers its lowerings)
from .atomic import lower_scalar_atomic
from .context import LowerContext
from .parallel import lower_parallel
from .registry import LOWERINGS


class _LowerTileOps(Mutator):
    def __init__(self, ctx: LowerContext, launch=None):
        self.ctx = ctx
        self.launch = launch

    def visit_KernelLaunch(self, k: S.KernelLaunch):
        ctx = self.ctx
        tid = None
        stride = 1
        for v, n in zip(k.thread_vars, k.threads):
            tid = v if tid is None else tid + v * stride
            stride *= n
        ctx.thread = tid if tid is not None else E.const(0)
        self.launch = k
        ctx.num_threads = ctx.block_threads = k.num_threads
        ctx.ranges.enter_launch(k)
        body = self.visit(k.body)
        body = _Flatten(ctx).visit(body)
        allocations = tuple(ctx.storage(b) for b in k.allocations + tuple(ctx.new_allocations))
        return S.KernelLaunch(k.grid, k.threads, k.block_vars, k.thread_vars, body, allocations,
                              dict(k.annotations), span=k.span)

    def visit_For(self, s: S.For):
        if s.kind == "thread":
            return self.visit(self._thread_loop(s))
        if s.kind == "parallel":

            return self.visit(self._checked(lambda: lower_parallel(s, self.ctx), s))
        with self.ctx.ranges.scope():  # constant loops only, as in simplify
            if isinstance(s.min, E.IntImm) and isinstance(s.extent, E.IntImm) and E.is_const(s.step, 1):
                self.ctx.ranges.enter_loop(s)
            s = self.generic_visit(s)
        if s.kind == "pipelined":
            ann = {k: v for k, v in s.annotations.items() if k not in ("num_stages", "order", "stage", "group")}
            return S.For(s.var, s.min, s.extent, "serial", s.body, s.step, ann, span=s.span)
        return s

    def _thread_loop(self, s: S.For) -> S.Stmt:
        """`for t in T.thread_binding(n, "threadIdx.x")`: t is the thread index (threads >= n skip)."""

        k = self.launch
        axis = "xyz".index(s.annotations.get("thread", "threadIdx.x")[-1])
        if axis >= len(k.thread_vars):
            raise CompileError(f"T.thread_binding on {s.annotations.get('thread')} in a block of threads {k.threads}", s.span)
        tv, count = k.thread_vars[axis], int(k.threads[axis])
        body = substitute(s.body, {s.var: s.min + tv})
        if isinstance(s.extent, E.IntImm) and s.extent.value >= count:
            return body
        return S.IfThenElse(tv < s.extent, body, span=s.span)

    def visit_IfThenElse(self, s: S.IfThenElse):
        """Inside the then-branch, `var + c < n` (and <=, >=, >) narrows var's range (bound proofs)."""
        with self.ctx.ranges.scope():
            self.ctx.ranges.assume(s.condition)
            then = self.visit(s.then_body)
        other = self.visit(s.else_body) if s.else_body is not None else None
        if then is s.then_body and other is s.else_body:
            return s
        return S.IfThenElse(s.condition, then, other, span=s.span)

    def visit_WarpSpecialize(self, s: S.WarpSpecialize):
        groups = sorted(int(g) for g in s.warp_groups)
        size = S.WARP_GROUP_SIZE
        ctx = self.ctx
        tid = ctx.thread + ctx.thread_base
        if groups != list(range(groups[0], groups[-1] + 1)):
            raise CompileError(f"T.ws{tuple(groups)}: warp groups must be consecutive", s.span)
        base, count = groups[0] * size, len(groups) * size
        inner = ctx.with_group(tid - base if base else tid, count, base)
        tv = self.launch.thread_vars[0] if len(self.launch.thread_vars) == 1 else None
        with ctx.ranges.scope():
            if tv is not None:
                ctx.ranges.bind(tv, base, base + count - 1)  # inside the group
            body = _LowerTileOps(inner, self.launch).visit(s.body)
        self.ctx.new_allocations = inner.new_allocations
        if base == 0:
            cond = tid < count
        else:
            cond = E.binary("and", tid >= base, tid < base + count)
        if base == 0 and count >= ctx.block_threads:
            return body
        out = S.IfThenElse(cond, body, span=s.span)
        ctx.ws_blocks.append(out)
        return out

    def visit_Atomic(self, s):

        return lower_scalar_atomic(s, self.ctx)

    def visit_DeviceAssert(self, s):
        return I.DEVICE_ASSERT.stmt(s.condition, E.StringImm(E.const(0).dtype, s.msg or "T.device_assert"))

    def visit_Evaluate(self, s):
        v = s.value
        intrinsic = I.lookup(v)
        if intrinsic is I.SET_MAX_NREG:
            n, inc = int(v.args[0].value), int(v.args[1].value)
            if not self.ctx.target.register_reallocation:
                return S.SeqStmt(())
            return (I.SET_MAX_NREG_INC if inc else I.SET_MAX_NREG_DEC).stmt(n, dtype=v.dtype, span=s.span)
        if intrinsic in (I.MBARRIER_EXPECT_TX, I.MBARRIER_ARRIVE_EXPECT_TX) and not self.ctx.target.bulk_copy:
            # before sm_90 no copy completes on a barrier by bytes: expect nothing, arrive as asked
            if intrinsic is I.MBARRIER_EXPECT_TX:
                return S.SeqStmt(())
            return I.MBARRIER_ARRIVE.stmt(*v.args[:1], dtype=v.dtype, span=s.span)
        if intrinsic is I.GRID_BARRIER:
            raise CompileError("T.sync_grid needs a cooperative launch, which this compiler does not do", s.span)
        return s

    def generic_visit(self, node):
        if isinstance(node, TOP.TileOp):
            fn = LOWERINGS.get(type(node))
            if fn is None:
                raise CompileError(f"no CUDA lowering for T.{type(node).__name__}", node.span)
            out = self._checked(lambda: fn(node, self.ctx), node)
            return _with_span(self.visit(out), node.span)
        return super().generic_visit(node)

    @staticmethod
    def _checked(fn, node):
        try:
            return fn()
        except TileLangError as e:
            raise e.with_span(node.span)


class _Flatten(Mutator):
    """Accesses to the user's shared / fragment / local buffers -> their lowered storage."""

    def __init__(self, ctx):
        self.ctx = ctx

    def visit_BufferLoad(self, e):
        e = self.generic_visit(e)
        if self.ctx.storage(e.buffer) is e.buffer:
            return e
        return self.ctx.load(e.buffer, e.indices)

    def visit_BufferStore(self, s):
        s = self.generic_visit(s)
        if self.ctx.storage(s.buffer) is s.buffer:
            return s
        return S.BufferStore(self.ctx.storage(s.buffer), self.ctx.flat_index(s.buffer, s.indices), s.value, span=s.span)


class _SpanFill(Mutator):
    def __init__(self, span):
        self.span = span

    def generic_visit(self, node):
        node = super().generic_visit(node)
        if isinstance(node, S.Stmt) and node.span is None and not isinstance(node, S.SeqStmt):
            import dataclasses

            node = dataclasses.replace(node, span=self.span)
        return node


def _with_span(stmt, span):
    """Statements a lowering produced carry the op's user line (codegen's // tilelang: comments)."""
    if span is None:
        return stmt
    return _SpanFill(span).visit(stmt)


def lower_tile_ops(func: PrimFunc, ctx: LowerContext) -> PrimFunc:
    """The pass (see the module docstring); TMA copies' tensor maps land in attrs["tma_descriptors"]."""
    body = _LowerTileOps(ctx).visit(func.body)
    attrs = {"tma_descriptors": tuple(ctx.tma_descriptors)} if ctx.tma_descriptors else {}
    return func.with_body(body, **attrs)
