"""init_barriers: mbarriers from T.alloc_barrier are initialised once per block.

After: the kernel body starts with `if (thread 0) mbar_init(&bar[i], count_i)` for every
barrier slot, then (sm_90+) fence_mbarrier_init and a __syncthreads so that no thread
touches a barrier before it exists.
"""
from __future__ import annotations

from ...ir import expr as E
from ...ir import stmt as S
from ...ir.function import PrimFunc
from ...ir.visitor import Mutator
from ...ir import intrinsics as I
from ...ir.scope import Scope


class _InitBarriers(Mutator):
    def __init__(self, fence: bool):
        self.fence = fence

    def visit_KernelLaunch(self, k):
        bars = [b for b in k.allocations if b.memory_scope == Scope.BARRIER]
        if not bars:
            return k
        inits = []
        for b in bars:
            for i, count in enumerate(b.arrive_counts or (1,)):
                load = E.BufferLoad(b.dtype, b, (E.const(i),))
                inits.append(I.MBARRIER_INIT.stmt(load, int(count)))
        tid = k.thread_vars[0] if k.thread_vars else E.const(0)
        for v in k.thread_vars[1:]:
            tid = E.binary("+", tid, v)  # zero only for thread (0, 0, 0)
        stmts = [S.IfThenElse(E.binary("==", tid, 0), S.seq(inits))]
        if self.fence:
            stmts.append(I.FENCE_MBARRIER_INIT.stmt())
        stmts.append(I.BLOCK_BARRIER.stmt())
        body = S.seq(stmts + [k.body])
        import dataclasses

        return dataclasses.replace(k, body=body)


def init_barriers(func: PrimFunc, ctx) -> PrimFunc:
    return func.with_body(_InitBarriers(ctx.target.barrier_init_fence).visit(func.body))
