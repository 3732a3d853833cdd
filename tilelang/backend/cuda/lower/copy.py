"""T.copy between any two scopes (and TmaCopy).

With a fragment on either side the copy runs as a parallel loop planned by that fragment.
Otherwise (global <-> shared, shared <-> shared) threads stride over the box in vectors of up
to 16 bytes when both sides are contiguous and aligned; copies annotated async become
cp.async. Out-of-bounds global loads read zero and stores are dropped; the guards are left
out where the bounds are provable.
"""
from __future__ import annotations

import math

from ....arith import simplify
from ....errors import CompileError
from ....ir import expr as E
from ....ir import intrinsics as I
from ....ir import stmt as S
from ....ir import tileop as TOP
from ....arith.divisibility import vector_width
from .context import address_of, aligned_vector, lowered_loop
from ....ir.scope import SHARED_SCOPES, Scope
from .parallel import lower_iterations
from .registry import lowering
from ....ir.visitor import substitute


def box_dims(src, dst):
    """Pair the non-unit extents of both regions: [(src_dim | None, dst_dim | None, extent)]."""
    sd = [i for i, e in enumerate(src.extents) if not E.is_const(e, 1)]
    dd = [i for i, e in enumerate(dst.extents) if not E.is_const(e, 1)]
    if len(sd) != len(dd):
        # extents of 1 on one side only; accept when the element counts agree
        raise CompileError(f"T.copy: the regions {src!r} and {dst!r} have different shapes")
    out = []
    for a, b in zip(sd, dd):
        ea, eb = simplify(src.extents[a]), simplify(dst.extents[b])
        if isinstance(ea, E.IntImm) and isinstance(eb, E.IntImm) and ea.value != eb.value:
            raise CompileError(f"T.copy: extent {ea.value} of {src.buffer.name} does not match {eb.value} of {dst.buffer.name}")
        out.append((a, b, eb if isinstance(eb, E.IntImm) else ea))
    return out


def region_index(region, dims, box_vars):
    """Indices into region.buffer for the box point box_vars (dims: which region dim each var walks)."""
    idx = list(region.mins)
    for d, v in zip(dims, box_vars):
        idx[d] = idx[d] + v
    return [simplify(i) for i in idx]


def in_bounds(buffer, indices, ranges):
    """Condition that `indices` lie inside a global buffer; None when provably always true."""
    conds = []
    for i, s in zip(indices, buffer.shape):
        if _provably_below(i, s, ranges):
            continue
        conds.append(i < s)
    cond = None
    for c in conds:
        cond = c if cond is None else E.binary("and", cond, c)
    return cond


def _provably_below(i, s, ranges) -> bool:
    hi = ranges.upper(simplify(i))
    return hi is not None and isinstance(s, E.IntImm) and hi < s.value


def _is_fragment(region):
    return region.buffer.memory_scope == Scope.FRAGMENT


@lowering(TOP.Copy)
def lower_copy(op: TOP.Copy, ctx) -> S.Stmt:
    src, dst = op.src, op.dst
    dims = box_dims(src, dst)
    if not dims:
        return _store(ctx, dst, region_index(dst, [], []), _load(ctx, src, region_index(src, [], [])), op.span)
    frag_side = dst if _is_fragment(dst) else (src if _is_fragment(src) else None)
    if frag_side is not None:
        return _copy_fragment(op, dims, frag_side, ctx)
    if src.buffer.memory_scope == Scope.LOCAL or dst.buffer.memory_scope == Scope.LOCAL:
        return _copy_serial(op, dims, ctx)
    return _copy_threads(op, dims, ctx)


def _load(ctx, region, idx):
    cond = in_bounds(region.buffer, idx, ctx.ranges) if region.buffer.memory_scope == Scope.GLOBAL else None
    value = E.BufferLoad(region.buffer.dtype, region.buffer, tuple(idx))  # lowered later (lower_tile_ops._Flatten)
    if cond is not None:
        value = E.select(cond, value, E.const(0, region.dtype))
    return value


def _store(ctx, region, idx, value, span):
    st = S.BufferStore(region.buffer, tuple(idx), E.cast(value, region.dtype), span=span)
    cond = in_bounds(region.buffer, idx, ctx.ranges) if region.buffer.memory_scope == Scope.GLOBAL else None
    return st if cond is None else S.IfThenElse(cond, st, span=span)


def _copy_fragment(op, dims, frag_region, ctx):
    frag = ctx.fragment(frag_region.buffer)
    box_vars = [ctx.var(f"i{n}") for n in range(len(dims))]
    shape = tuple(int(x) for x in frag.shape)
    full = tuple(int(e.value) if isinstance(e, E.IntImm) else -1 for _, _, e in dims)
    covers = full == tuple(s for s in shape if s != 1) and all(E.is_const(m, 0) for m in frag_region.mins)
    if not covers:
        return _copy_fragment_part(op, dims, frag_region, frag, ctx)
    # the loop runs over the fragment's full index space (unit dims included)
    loop_vars = [ctx.var(f"i{n}") for n in range(len(shape))]
    nonunit = [d for d, s in enumerate(shape) if s != 1]
    mapping = dict(zip([box_vars[k] for k in range(len(dims))], [loop_vars[d] for d in nonunit]))
    for v, n in zip(loop_vars, shape):
        ctx.ranges.bind(v, 0, n - 1)
    src_idx = [E.convert(x) for x in region_index(op.src, [a for a, _, _ in dims], [mapping[v] for v in box_vars])]
    dst_idx = [E.convert(x) for x in region_index(op.dst, [b for _, b, _ in dims], [mapping[v] for v in box_vars])]
    other = op.src if frag_region is op.dst else op.dst
    w = _fragment_vector_width(frag, other, dims, frag_region is op.dst, ctx)
    if w > 1:
        out = _copy_fragment_vectorized(op, frag, frag_region, other, loop_vars, src_idx, dst_idx, w, ctx)
    else:
        body = _store(ctx, op.dst, dst_idx, _load(ctx, op.src, src_idx), op.span)
        out = lower_iterations(loop_vars, [E.const(s) for s in shape], body, ctx, frag, span=op.span)
    for v in loop_vars:
        ctx.ranges.forget(v)
    return out


def _copy_fragment_part(op, dims, frag_region, frag, ctx):
    """A box inside a fragment: every thread walks the registers it holds and moves the elements
    that fall inside the box."""
    shape = [int(x) for x in frag.shape]
    loop_vars = [ctx.var(f"i{n}") for n in range(len(shape))]
    frag_is_src = frag_region is op.src
    cond = None
    for d, (v, r) in enumerate(zip(loop_vars, frag_region.region)):
        if E.is_const(r.min, 0) and E.is_const(r.extent, shape[d]):
            continue
        inside = E.binary("and", v >= r.min, v < simplify(r.min + r.extent))
        cond = inside if cond is None else E.binary("and", cond, inside)
    box = [loop_vars[a if frag_is_src else b] - (frag_region.mins[a if frag_is_src else b]) for a, b, _ in dims]
    other = op.dst if frag_is_src else op.src
    other_idx = region_index(other, [b if frag_is_src else a for a, b, _ in dims], box)
    frag_idx = list(loop_vars)
    src_idx, dst_idx = (frag_idx, other_idx) if frag_is_src else (other_idx, frag_idx)
    body = _store(ctx, op.dst, dst_idx, _load(ctx, op.src, src_idx), op.span)
    if cond is not None:
        body = S.IfThenElse(cond, body)
    return lower_iterations(loop_vars, [E.const(x) for x in shape], body, ctx, frag, span=op.span)


def _fragment_vector_width(frag, other, dims, frag_is_dst, ctx) -> int:
    """Registers per vector access between a fragment and a global / shared tile (1: scalar)."""
    buf = other.buffer
    if ctx.pass_configs.get("tir.disable_vectorize"):
        return 1
    if buf.memory_scope not in (Scope.GLOBAL,) + SHARED_SCOPES or not frag.is_dense():
        return 1
    if frag.num_threads > ctx.num_threads or frag.replicate != 1:
        return 1
    last_other = dims[-1][0] if frag_is_dst else dims[-1][1]
    if last_other != len(buf.shape) - 1 or frag.shape[-1] == 1:
        return 1
    w = min(frag.vector_width(), 16 // max(buf.dtype.bytes, 1))
    w = vector_width(w, (ctx.row_width(buf), other.mins[-1]))
    return w if frag.num_registers % max(w, 1) == 0 else 1


def _copy_fragment_vectorized(op, frag, frag_region, other, loop_vars, src_idx, dst_idx, w, ctx):
    """for ro: (bounds at the vector's start) for rv in vectorized(w): dst = src, on w consecutive
    registers holding w consecutive last-dim elements."""

    ro, rv = ctx.var(f"{loop_vars[-1].name}_r"), ctx.var("v")
    start = frag.logical(ctx.thread, ro * w)
    at_start = {v: _as_expr(x) for v, x in zip(loop_vars, start)}
    frag_store = frag_region is op.dst
    other_idx = [simplify(substitute(E.convert(i), at_start)) for i in (src_idx if frag_store else dst_idx)]
    frag_acc = (ro * w + rv,)
    frag_buf = ctx.storage(frag_region.buffer)
    if frag_store:
        value = _vector_access(ctx, other.buffer, other_idx, rv)
        body = S.BufferStore(frag_buf, frag_acc, E.cast(value, op.dst.dtype))
        zero = S.BufferStore(frag_buf, frag_acc, E.const(0, op.dst.dtype))
    else:
        value = E.BufferLoad(frag_region.buffer.dtype, frag_buf, frag_acc)
        buf, flat = _vector_access(ctx, other.buffer, other_idx, rv, store=True)
        body = S.BufferStore(buf, flat, E.cast(value, op.dst.dtype))
        zero = None
    for v, n in zip(loop_vars, frag.shape):
        ctx.ranges.forget(v)
    ctx.ranges.bind(ro, 0, frag.num_registers // w - 1)
    cond = in_bounds(other.buffer, other_idx, ctx.ranges) if other.buffer.memory_scope == Scope.GLOBAL else None
    inner = S.For(rv, E.const(0), E.const(w), "vectorized", body, annotations=aligned_vector())
    if cond is not None:
        inner = S.IfThenElse(cond, inner, S.For(rv, E.const(0), E.const(w), "vectorized", zero,
                                                annotations=aligned_vector()) if zero else None)
    out = S.For(ro, E.const(0), E.const(frag.num_registers // w), "unroll", inner, annotations=lowered_loop(),
                span=op.span)
    if frag.num_threads < ctx.num_threads:
        out = S.IfThenElse(ctx.thread < frag.num_threads, out)
    return out


def _as_expr(x):
    return x if isinstance(x, E.Expr) else E.const(int(x))


def _copy_serial(op, dims, ctx):
    """Copies touching a thread-private local array: every thread copies the whole box."""
    vars_ = [ctx.var(f"i{n}") for n in range(len(dims))]
    body = _store(ctx, op.dst, region_index(op.dst, [b for _, b, _ in dims], vars_),
                  _load(ctx, op.src, region_index(op.src, [a for a, _, _ in dims], vars_)), op.span)
    for v, (_, _, ext) in reversed(list(zip(vars_, dims))):
        body = S.For(v, E.const(0), ext, "unroll" if isinstance(ext, E.IntImm) and ext.value <= 64 else "serial", body,
                     annotations=lowered_loop())
    return body


def _static(e):
    return e.value if isinstance(e, E.IntImm) else None


def _vector_width(op, dims, ctx) -> int:
    """Elements per vector access: <= 16 bytes, dividing the innermost extent, contiguous and aligned."""
    src, dst = op.src, op.dst
    a_last, b_last, ext = dims[-1]
    n = _static(ext)
    if n is None:
        return 1
    if a_last != len(src.buffer.shape) - 1 or b_last != len(dst.buffer.shape) - 1:
        return 1
    if ctx.pass_configs.get("tir.disable_vectorize"):
        return 1
    bytes_ = max(src.dtype.bytes, dst.dtype.bytes)
    rows = [ctx.row_width(r.buffer) for r in (src, dst) if r.buffer.memory_scope in (Scope.GLOBAL,) + SHARED_SCOPES]
    return vector_width(16 // bytes_ if bytes_ <= 16 else 1, (n, *rows, src.mins[-1], dst.mins[-1]))


def _copy_threads(op, dims, ctx):
    """global <-> shared / shared <-> shared: the block's threads stride over the box in vectors."""
    extents = [_static(e) for _, _, e in dims]
    if any(e is None for e in extents):
        raise CompileError("T.copy between shared and global memory needs a static box")
    v = _vector_width(op, dims, ctx)
    total = math.prod(extents)
    chunks = total // v
    threads = ctx.num_threads
    it = ctx.var("it")
    vec = ctx.var("v")
    flat = (it * threads + ctx.thread) * v if chunks > threads else ctx.thread * v
    box_idx = []
    rest = flat
    for k, e in reversed(list(enumerate(extents))):
        box_idx.append(rest % e if k else rest)
        rest = rest // e
    box_idx = [simplify(x) for x in reversed(box_idx)]
    ctx.ranges.bind(it, 0, -(-chunks // threads) - 1)
    src_idx = region_index(op.src, [a for a, _, _ in dims], box_idx)
    dst_idx = region_index(op.dst, [b for _, b, _ in dims], box_idx)
    load_cond = in_bounds(op.src.buffer, src_idx, ctx.ranges) if op.src.buffer.memory_scope == Scope.GLOBAL else None
    store_cond = in_bounds(op.dst.buffer, dst_idx, ctx.ranges) if op.dst.buffer.memory_scope == Scope.GLOBAL else None
    use_async = (op.annotations.get("async") and op.src.buffer.memory_scope == Scope.GLOBAL
                 and op.dst.buffer.memory_scope in SHARED_SCOPES and v * op.src.dtype.bytes in (4, 8, 16)
                 and op.src.dtype == op.dst.dtype and ctx.target.async_copy)
    if use_async:
        nbytes = v * op.src.dtype.bytes
        dst_addr = ctx.address(op.dst.buffer, dst_idx)
        src_addr = address_of(ctx.load(op.src.buffer, src_idx))
        if load_cond is None:
            inner = I.ASYNC_COPY.stmt(nbytes, dst_addr, src_addr)
        else:
            inner = I.ASYNC_COPY_ZFILL.stmt(nbytes, dst_addr, src_addr, load_cond)
    else:
        # vector start -> flat storage index, then + vec: the layout keeps runs of v contiguous
        load = _vector_access(ctx, op.src.buffer, src_idx, vec)
        dst_buf, dst_flat = _vector_access(ctx, op.dst.buffer, dst_idx, vec, store=True)
        st = S.BufferStore(dst_buf, dst_flat, E.cast(load, op.dst.dtype))
        zero = S.BufferStore(dst_buf, dst_flat, E.const(0, op.dst.dtype))
        if v > 1:
            st = S.For(vec, E.const(0), E.const(v), "vectorized", st, annotations=aligned_vector())
            zero = S.For(vec, E.const(0), E.const(v), "vectorized", zero, annotations=aligned_vector())
        else:
            st = _subst_vec(st, vec)
            zero = _subst_vec(zero, vec)
        inner = st
        if load_cond is not None:
            inner = S.IfThenElse(load_cond, st, zero)
    if store_cond is not None:
        inner = S.IfThenElse(store_cond, inner)
    if chunks % threads and chunks > threads:
        inner = S.IfThenElse(flat < total, inner)
    elif chunks < threads:
        inner = S.IfThenElse(ctx.thread < chunks, inner)
    out = (S.For(it, E.const(0), E.const(-(-chunks // threads)), "unroll", inner, annotations=lowered_loop())
           if chunks > threads else inner)
    ctx.ranges.forget(it)
    return out


def _vector_access(ctx, buffer, start, vec, store=False):
    """Access to element `vec` of the vector starting at logical index `start`."""
    storage = ctx.storage(buffer)
    flat = ctx.flat_index(buffer, start)
    if storage is buffer and buffer.memory_scope == Scope.GLOBAL:
        flat = tuple(flat[:-1]) + (simplify(flat[-1] + vec),)
    else:
        flat = tuple(flat[:-1]) + (flat[-1] + vec,)
    if store:
        return storage, flat
    return E.BufferLoad(buffer.dtype, storage, flat)


def _subst_vec(stmt, vec):
    return substitute(stmt, {vec: E.const(0)})
