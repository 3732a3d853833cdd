"""T.reduce_* (an all-reduce along one dim) and T.cumsum on fragments.

Three steps, all planned from the fragments' tables: each thread folds its own registers into
one partial per output register; threads whose index differs only in "reduce bits" (bits that
move along the reduced dim and never change which output rows a thread holds) combine with
warp shuffles (bits < 5) and, across warps, through a small shared scratch buffer.
"""
from __future__ import annotations

import numpy as np

from ....errors import CompileError
from ....ir import expr as E
from ....ir import intrinsics as I
from ....ir import stmt as S
from ....ir import tileop as TOP
from ....ir.dtypes import float32
from .context import lowered_loop
from .parallel import _tables
from .registry import lowering
from ....ir.buffer import BufferRegion
from .copy import lower_copy
from ....ir.visitor import substitute
from ....ir.scope import Scope


def identity(kind: str, dtype) -> E.Expr:
    if kind in ("sum", "abssum"):
        return E.const(0, dtype)
    if kind == "absmax":
        return E.const(0, dtype)
    if dtype.is_float:
        inf = float("inf")
        return E.const(-inf if kind == "max" else inf, dtype)
    return E.const(dtype.min_value() if kind == "max" else dtype.max_value(), dtype)


def combine(kind: str, a, b) -> E.Expr:
    if kind in ("sum", "abssum"):
        return a + b
    if kind in ("max", "absmax"):
        return E.binary("max", a, b)
    return E.binary("min", a, b)


def _element(kind, v):
    return E.call(I.MATH["abs"].name, v) if kind in ("abssum", "absmax") else v


def _tree(kind: str, values: list) -> E.Expr:
    while len(values) > 1:
        pairs = [combine(kind, a, b) for a, b in zip(values[0::2], values[1::2])]
        values = pairs + values[len(pairs) * 2:]
    return values[0]


def sync_group(ctx) -> S.Stmt:
    if ctx.num_threads == ctx.block_threads:
        return I.BLOCK_BARRIER.stmt()
    return I.NAMED_BARRIER.stmt(1 + ctx.thread_base // 128, ctx.num_threads)


@lowering(TOP.Reduce)
def lower_reduce(op: TOP.Reduce, ctx) -> S.Stmt:
    src, dst = op.src.buffer, op.dst.buffer
    if src.memory_scope != Scope.FRAGMENT or dst.memory_scope != Scope.FRAGMENT:
        raise CompileError(f"T.reduce_{op.kind} needs fragments (src {src.memory_scope}, dst {dst.memory_scope}); "
                           "copy shared tiles into a fragment first")
    for region in (op.src, op.dst):
        if not all(E.is_const(r.min, 0) and E.is_const(r.extent, int(n))
                   for r, n in zip(region.region, region.buffer.shape)):
            raise CompileError(f"T.reduce_{op.kind} works on whole fragments; {region!r} is a part of "
                               f"{region.buffer.name} (copy the part into its own fragment first)")
    F, D = ctx.fragment(src), ctx.fragment(dst)
    dim = op.dim if op.dim >= 0 else op.dim + len(F.shape)
    Ft, Fr = _tables(F)
    Dt, Dr = _tables(D)
    T, R = int(F.num_threads), int(F.num_registers)
    shape = tuple(int(s) for s in F.shape)
    keep = [d for d in range(len(shape)) if d != dim]
    grids = np.indices(shape)
    didx = [grids[d] for d in keep]
    if len(D.shape) == len(shape):
        didx.insert(dim, np.zeros(shape, dtype=np.int64))
    dreg_e = Dr[tuple(didx)]
    dflat_e = np.ravel_multi_index(tuple(didx), Dr.shape)
    dst_of = np.full((T, R), -1, dtype=np.int64)
    dreg = np.full((T, R), -1, dtype=np.int64)
    dst_of[Ft, Fr] = dflat_e
    dreg[Ft, Fr] = dreg_e
    slot = np.full(R, -1, dtype=np.int64)
    for r in range(R):
        col = dreg[:, r]
        col = col[col >= 0]
        if col.size == 0:
            continue
        if col.min() != col.max():
            raise CompileError(f"T.reduce_{op.kind}: the layouts of {src.name} and {dst.name} do not line up "
                               "(an output register differs between threads for one input register)")
        slot[r] = col[0]
    # reduce bits: flipping them keeps every register's output row
    bits = []
    b = 0
    while (1 << b) < T:
        partner = np.arange(T) ^ (1 << b)
        if partner.max() < T and np.array_equal(dst_of[partner], dst_of):
            bits.append(b)
        b += 1
    acc_dtype = dst.dtype
    n_out = int(D.num_registers)
    red = ctx.alloc(f"{dst.name}_red", (n_out,), acc_dtype, Scope.LOCAL)
    src_low, dst_low = ctx.storage(src), ctx.storage(dst)
    # each output register combines its input registers as a balanced tree: a dependency chain
    # of log2(n) operations instead of n
    stmts = []
    for k in range(n_out):
        values = [E.cast(_element(op.kind, E.BufferLoad(src.dtype, src_low, (E.const(r),))), acc_dtype)
                  for r in range(R) if slot[r] == k]
        stmts.append(S.BufferStore(red, (E.const(k),), _tree(op.kind, values) if values else
                                   identity(op.kind, acc_dtype)))
    local_part = S.seq(stmts)
    if T < ctx.num_threads:
        local_part = S.IfThenElse(ctx.thread < T, local_part)
    out = [local_part]
    kind = "sum" if op.kind == "abssum" else ("max" if op.kind == "absmax" else op.kind)
    for b in bits:
        if b >= 5:
            continue
        for k in range(n_out):
            cur = E.BufferLoad(acc_dtype, red, (E.const(k),))
            out.append(S.BufferStore(red, (E.const(k),),
                                     combine(kind, cur, I.SHFL_XOR(cur, 1 << b, dtype=acc_dtype))))
    warp_bits = [b for b in bits if b >= 5]
    if warp_bits:
        scratch = ctx.alloc(f"{dst.name}_scratch", (T * n_out,), acc_dtype, Scope.SHARED_DYN)
        t = ctx.thread
        out.append(sync_group(ctx))
        for k in range(n_out):
            out.append(S.BufferStore(scratch, (t * n_out + k,), E.BufferLoad(acc_dtype, red, (E.const(k),))))
        out.append(sync_group(ctx))
        mask = sum(1 << b for b in warp_bits)
        for k in range(n_out):
            acc = None
            combo = 0
            while True:
                # every combination of the cross-warp bits
                partner = t ^ combo if combo else t
                val = E.BufferLoad(acc_dtype, scratch, (partner * n_out + k,))
                acc = val if acc is None else combine(kind, acc, val)
                combo = (combo - mask) & mask
                if combo == 0:
                    break
            out.append(S.BufferStore(red, (E.const(k),), acc))
        out.append(sync_group(ctx))
    final = []
    for k in range(n_out):
        v = E.BufferLoad(acc_dtype, red, (E.const(k),))
        if not op.clear:
            v = combine(kind, E.BufferLoad(dst.dtype, dst_low, (E.const(k),)), v)
        final.append(S.BufferStore(dst_low, (E.const(k),), E.cast(v, dst.dtype)))
    final = S.seq(final)
    if D.num_threads < ctx.num_threads:
        final = S.IfThenElse(ctx.thread < D.num_threads, final)
    out.append(final)
    return S.seq(out)


@lowering(TOP.CumSum)
def lower_cumsum(op: TOP.CumSum, ctx) -> S.Stmt:
    """Inclusive prefix sum along `dim`, done by one thread per line through the lowered storage
    (shared tiles) — simple and correct; fragments go through a shared staging copy."""
    src, dst = op.src.buffer, op.dst.buffer
    if src.memory_scope == Scope.FRAGMENT or dst.memory_scope == Scope.FRAGMENT:
        return _cumsum_through_shared(op, ctx)
    shape = [int(e.value) for e in op.src.extents]
    dim = op.dim if op.dim >= 0 else op.dim + len(shape)
    lines = int(np.prod(shape)) // shape[dim]
    line = ctx.var("line")
    k = ctx.var("k")
    acc = ctx.alloc(f"{dst.name}_cum", (1,), dst.dtype if dst.dtype.is_float else float32, Scope.LOCAL)
    rest, idx = line, [None] * len(shape)
    for d in reversed(range(len(shape))):
        if d == dim:
            continue
        idx[d] = rest % shape[d]
        rest = rest // shape[d]
    pos = (shape[dim] - 1 - k) if op.reverse else k
    idx[dim] = pos
    sidx = [m + i for m, i in zip(op.src.mins, idx)]
    didx = [m + i for m, i in zip(op.dst.mins, idx)]
    a = E.BufferLoad(acc.dtype, acc, (E.const(0),))
    body = S.seq([
        S.BufferStore(acc, (E.const(0),), a + E.cast(ctx.load(src, sidx), acc.dtype)),
        ctx.store(dst, didx, E.BufferLoad(acc.dtype, acc, (E.const(0),))),
    ])
    loop = S.seq([S.BufferStore(acc, (E.const(0),), E.const(0, acc.dtype)),
                  S.For(k, E.const(0), E.const(shape[dim]), "serial", body)])
    it = ctx.var("it")
    t = ctx.thread
    per = -(-lines // ctx.num_threads)
    inner = S.IfThenElse(it * ctx.num_threads + t < lines, _subst(loop, line, it * ctx.num_threads + t))
    loop = S.For(it, E.const(0), E.const(per), "unroll", inner, annotations=lowered_loop())
    return S.seq([sync_group(ctx), loop, sync_group(ctx)])


def _cumsum_through_shared(op, ctx):
    """Fragments scan through a row-major shared staging tile: copy in, scan, copy out."""

    shape = [int(e.value) for e in op.src.extents]
    stage = ctx.alloc(f"{op.src.buffer.name}_scan", shape, op.dst.buffer.dtype, Scope.SHARED_DYN, lowered=False)
    full = BufferRegion.full(stage)
    return S.seq([
        lower_copy(TOP.Copy(op.src, full, span=op.span), ctx),
        lower_cumsum(TOP.CumSum(full, full, op.dim, op.reverse, span=op.span), ctx),
        lower_copy(TOP.Copy(full, op.dst, span=op.span), ctx),
    ])


def _subst(stmt, var, value):

    return substitute(stmt, {var: value})
