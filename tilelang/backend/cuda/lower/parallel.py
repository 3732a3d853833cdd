"""T.Parallel nests -> per-thread register loops.

The loop fragment (LayoutMap.loops, or the fragment a copy iterates over) says which thread
runs which iteration: thread t runs iterations `fragment.logical(t, r)` for r < num_registers.
Fragment accesses whose register is the loop's own register print as `frag[r]`; those whose
register depends only on r get constants (the loop is unrolled here); anything else keeps
the symbolic `Fragment.register` expression.
"""
from __future__ import annotations

import numpy as np

from ....errors import CompileError
from ....ir import expr as E
from ....ir import intrinsics as I
from ....ir import stmt as S
from ....ir.visitor import Mutator, substitute
from .context import aligned_vector, lowered_loop
from ....arith import simplify
from ....ir.visitor import collect
from ....arith.divisibility import vector_width
from ....layout import Striped
from ....ir.structural import structural_key
from ....ir.scope import Scope


def parallel_nest(loop: S.For):
    """(vars, extents, body) of a perfect nest of parallel loops."""
    vars_, extents = [], []
    s = loop
    while isinstance(s, S.For) and s.kind == "parallel":
        vars_.append(s.var)
        extents.append(s.extent)
        s = s.body
    return vars_, extents, s


def lower_parallel(loop: S.For, ctx, fragment=None) -> S.Stmt:
    vars_, extents, body = parallel_nest(loop)
    return lower_iterations(vars_, extents, body, ctx, fragment or _loop_fragment(loop, ctx), span=loop.span)


def _loop_fragment(loop, ctx):
    loops = getattr(ctx.layout_map, "loops", None) or {}
    frag = loops.get(loop)
    if frag is not None:
        return frag
    vars_, extents, _ = parallel_nest(loop)
    return Striped(extents, ctx.num_threads)


def lower_iterations(vars_, extents, body, ctx, frag, span=None, reg_name="r") -> S.Stmt:
    """Run `body` for every index of `extents` (bound to vars_) as planned by `frag`."""
    reg = ctx.var(f"{vars_[-1].name}_{reg_name}" if vars_ else reg_name)
    logical = frag.logical(ctx.thread, reg)
    mapping = {v: _expr(x) for v, x in zip(vars_, logical)}
    mapping[_REG] = reg
    plan = _RegisterPlan(vars_, frag, ctx) if not isinstance(frag, Striped) else None
    if plan is not None:
        body = plan.rewrite(body)
    num_registers = frag.num_registers
    thread_guard = None
    if not isinstance(frag, Striped) and not frag.is_dense():
        cover = frag.covers(ctx.thread, reg)
        if cover is not True:
            cover = _expr(cover) if not isinstance(cover, bool) else E.const(cover)
            thread_guard = _register_free(cover, reg, frag.num_registers)
            if thread_guard is None:
                body = S.IfThenElse(cover, body, span=span)
    if plan is not None and plan.constant_tables:
        stmts = []
        for r in range(num_registers):
            rc = E.const(r)
            one = plan.bind_register(body, r)
            stmts.append(substitute(one, {**{v: substitute(m, {reg: rc}) for v, m in mapping.items()}, reg: rc,
                                          _REG: rc}))
        out = S.seq(stmts)
    elif thread_guard is None and (w := _vector_plan(vars_, body, frag, ctx)) > 1:
        # w consecutive registers hold w consecutive elements of the last dim: one vector access
        ro, rv = ctx.var(f"{vars_[-1].name}_v"), ctx.var("v")
        start = frag.logical(ctx.thread, ro * w)
        vmap = {v: _expr(x) for v, x in zip(vars_, start)}
        vmap[vars_[-1]] = vmap[vars_[-1]] + rv
        vmap[_REG] = ro * w + rv
        if isinstance(body, S.IfThenElse):  # a bound guard, the same for the whole vector
            at_start = {**vmap, vars_[-1]: vmap[vars_[-1]] - rv}
            inner = S.For(rv, E.const(0), E.const(w), "vectorized", substitute(body.then_body, vmap),
                          annotations=aligned_vector(), span=span)
            inner = S.IfThenElse(substitute(body.condition, at_start), inner, span=body.span)
        else:
            inner = S.For(rv, E.const(0), E.const(w), "vectorized", substitute(body, vmap),
                          annotations=aligned_vector(), span=span)
        out = S.For(ro, E.const(0), E.const(num_registers // w), "unroll", inner, annotations=lowered_loop(),
                    span=span)
    else:
        out = substitute(body, {**mapping})
        if isinstance(frag, Striped) and not frag.covers_exactly():
            out = S.IfThenElse(frag.covers(ctx.thread, reg), out, span=span)
        if isinstance(num_registers, E.Expr):  # symbolic extents: a strided loop
            out = S.For(reg, E.const(0), num_registers, "serial", out, annotations=lowered_loop(), span=span)
        elif num_registers == 1:
            out = substitute(out, {reg: E.const(0)})
        else:
            out = S.For(reg, E.const(0), E.const(num_registers), "unroll", out, annotations=lowered_loop(), span=span)
    if thread_guard is not None:
        out = S.IfThenElse(thread_guard, out, span=span)
    if frag.num_threads < ctx.num_threads:
        out = S.IfThenElse(ctx.thread < frag.num_threads, out, span=span)
    elif frag.num_threads > ctx.num_threads:
        raise CompileError(f"a loop planned over {frag.num_threads} threads runs in a group of {ctx.num_threads}", span)
    return out


def _vector_plan(vars_, body, frag, ctx) -> int:
    """Elements per vector access for a loop body that is one store (1: stay scalar): the loop's
    vector width, where every memory access walks the last loop var contiguously and aligned."""

    guard = None
    if isinstance(body, S.IfThenElse) and body.else_body is None and isinstance(body.then_body, S.BufferStore):
        guard, body = body.condition, body.then_body
    if isinstance(frag, Striped) or not isinstance(body, S.BufferStore) or not vars_:
        return 1
    if ctx.pass_configs.get("tir.disable_vectorize") or not frag.is_dense():
        return 1
    w = frag.vector_width()
    if w < 2 or frag.num_registers % w:
        return 1
    multiples = []  # every one a multiple of the width: vector starts, bounds, contiguous rows
    if guard is not None:
        # `base + last < bound` (and conjunctions of such, or conditions without the last var):
        # true for all of an aligned vector or for none of it when base and bound are multiples of w
        for c in _conjuncts(guard):
            if not _uses(c, vars_[-1]):
                continue
            base = _unit_base(c.a, vars_[-1]) if isinstance(c, E.Binary) and c.op == "<" else None
            if base is None or _uses(c.b, vars_[-1]):
                return 1
            multiples += [base, c.b]

    last = vars_[-1]
    accesses = [body] + collect(body.value, lambda n: isinstance(n, E.BufferLoad))
    if collect(body.value, lambda n: isinstance(n, E.Call) and not I.is_math(n)):
        return 1
    for acc in accesses:
        buf = acc.buffer
        w = min(w, max(16 // buf.dtype.bytes, 1))
        if len(acc.indices) == 1 and acc.indices[0] is _REG:
            continue
        scope = buf.memory_scope
        idx = list(acc.indices)
        if not any(_uses(i, last) for i in idx):
            if acc is body:
                return 1  # every element would store to one place
            continue
        if scope not in (Scope.GLOBAL, Scope.SHARED, Scope.SHARED_DYN) or any(_uses(i, last) for i in idx[:-1]):
            return 1
        base = _unit_base(idx[-1], last)
        if base is None:
            return 1
        multiples += [base, ctx.row_width(buf)]
    return vector_width(w, multiples)


def _conjuncts(cond) -> list:
    if isinstance(cond, E.Binary) and cond.op == "and":
        return _conjuncts(cond.a) + _conjuncts(cond.b)
    return [cond]


def _unit_base(index, var):
    """`b` when index is `b + var` with var nowhere in b, else None."""

    if index is var:
        return E.const(0)
    if isinstance(index, E.Binary) and index.op == "+":
        if index.b is var and not _uses(index.a, var):
            return index.a
        if index.a is var and not _uses(index.b, var):
            return index.b
        if _uses(index.a, var) and not _uses(index.b, var):
            inner = _unit_base(index.a, var)
            return None if inner is None else simplify(inner + index.b)
        if _uses(index.b, var) and not _uses(index.a, var):
            inner = _unit_base(index.b, var)
            return None if inner is None else simplify(index.a + inner)
    return None


def _register_free(cond, reg, num_registers):
    """`cond` when it is the same for every register value (then it guards the loop once)."""
    if not _uses(cond, reg):
        return cond

    first, key = None, None
    for r in range(num_registers):
        c = simplify(substitute(cond, {reg: E.const(r)}))
        k = structural_key(c)
        if first is None:
            first, key = c, k
        elif k != key:
            return None
    return first if not _uses(first, reg) else None


def _uses(e, var) -> bool:

    return bool(collect(e, lambda n: n is var))


def _expr(x):
    return x if isinstance(x, E.Expr) else E.const(int(x))


class _RegisterPlan(Mutator):
    """Rewrites fragment accesses inside a planned loop to register indices."""

    def __init__(self, vars_, frag, ctx):
        self.vars = list(vars_)
        self.frag = frag
        self.ctx = ctx
        self.loop_threads, self.loop_regs = _tables(frag)
        self.shape = self.loop_regs.shape
        self.grids = np.indices(self.shape) if len(self.vars) == len(self.shape) else None
        self.constant_tables = []  # [(placeholder Var, per-register constants)]
        self.reg_var = None

    def rewrite(self, body):
        return self.visit(body)

    def bind_register(self, body, r: int):
        return substitute(body, {ph: E.const(int(consts[r])) for ph, consts in self.constant_tables})

    def _register_index(self, buffer, indices):
        if buffer.memory_scope != Scope.FRAGMENT or self.grids is None:
            return None
        try:
            _, regs = _tables(self.ctx.fragment(buffer))
        except Exception:
            return None
        idx = []
        for i in indices:
            pos = next((n for n, v in enumerate(self.vars) if v is i), None)
            if pos is not None:
                idx.append(self.grids[pos])
            elif isinstance(i, E.IntImm):
                idx.append(np.full(self.shape, i.value))
            else:
                return None
        if any(x.max() >= s for x, s in zip(idx, regs.shape)):
            return None
        table = regs[tuple(idx)]
        if np.array_equal(table, self.loop_regs):
            return "r"
        n = int(self.loop_regs.max()) + 1
        consts = np.zeros(n, dtype=np.int64)
        for r in range(n):
            vals = table[self.loop_regs == r]
            if vals.size == 0:
                continue
            if vals.min() != vals.max():
                return None
            consts[r] = vals[0]
        return consts

    def _lowered(self, buffer, indices):
        how = self._register_index(buffer, indices)
        if how is None:
            return None
        storage = self.ctx.storage(buffer)
        if isinstance(how, str):
            return storage, None
        ph = E.Var(E.const(0).dtype, f"{buffer.name}_reg")
        self.constant_tables.append((ph, how))
        return storage, ph

    def visit_BufferLoad(self, e):
        low = self._lowered(e.buffer, e.indices)
        if low is None:
            return self.generic_visit(e)
        storage, ph = low
        return E.BufferLoad(e.dtype, storage, (ph if ph is not None else _REG,))

    def visit_BufferStore(self, s):
        value = self.visit(s.value)
        low = self._lowered(s.buffer, s.indices)
        if low is None:
            new = self.generic_visit(s)
            return new
        storage, ph = low
        return S.BufferStore(storage, (ph if ph is not None else _REG,), E.cast(value, s.buffer.dtype), span=s.span)


# Placeholder for "the loop's own register": replaced by the register var after rewriting.
_REG = E.Var(E.const(0).dtype, "__loop_register__")


def _tables(frag):
    cache = getattr(frag, "_tl_lower_tables", None)
    if cache is not None:
        return cache
    threads, regs = frag.table()
    threads, regs = np.asarray(threads), np.asarray(regs)
    try:
        frag._tl_lower_tables = (threads, regs)
    except Exception:
        pass
    return threads, regs
