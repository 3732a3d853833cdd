"""layout_inference: decide the Layout of every shared buffer, the Fragment of every fragment
buffer, and the thread plan (a Fragment over the iteration space) of every T.Parallel nest.

Before: tile IR (after software pipelining). After: the IR is unchanged; the result is a
`LayoutMap`. Decisions are made in three levels, strict before common before free, and each
time one decision is made the stronger levels run again, so that a free choice never
pre-empts a demand:
  strict  T.annotate_layout / loop_layout, T.gemm (mma lane maps, swizzled operands),
          T.reduce_* (dst = src with the reduced dim replicated)
  common  a T.Parallel nest takes the layout of a fragment it indexes by its own variables,
          and gives its layout to the fragments it indexes so; fragment-to-fragment copies
  free    the first undecided site in program order gets a vectorized thread plan
Two demands that disagree raise LayoutConflictError naming both ops and their source lines.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import LayoutConflictError, LoweringError, Span, TileLangTypeError
from ..ir import expr as E
from ..ir import stmt as S
from ..ir import tileop as TOP
from ..ir.buffer import Buffer, BufferRegion
from ..ir.function import PrimFunc
from ..ir.visitor import Visitor
from ..layout import (Fragment, Layout, line_plan, parallel_plan, replicated_rows, row_major, stacked,
                      with_unit_dim)
from ..layout import mma
from ..target import TargetDescription
from .context import PassContext
from ..ir.scope import SHARED_SCOPES, Scope

VECTOR_BYTES = 16


@dataclasses.dataclass(frozen=True)
class Decision:
    """Who fixed a layout: the op (as the user wrote it) and its source line."""

    op: str
    span: Span | None = None
    level: str = "strict"  # strict | common | free

    def describe(self) -> str:
        where = self.span.render() if self.span is not None else "(no source line)"
        return f"{self.op} at {where}"


@dataclasses.dataclass
class LayoutMap:
    buffers: dict = dataclasses.field(default_factory=dict)     # Buffer -> Layout | Fragment
    decided_by: dict = dataclasses.field(default_factory=dict)  # Buffer -> Decision
    loops: dict = dataclasses.field(default_factory=dict)       # outermost parallel For -> Fragment
    loop_decided_by: dict = dataclasses.field(default_factory=dict)  # For -> Decision

    def __getitem__(self, buffer):
        return self.buffers[buffer]

    def get(self, buffer, default=None):
        return self.buffers.get(buffer, default)

    def __contains__(self, buffer) -> bool:
        return buffer in self.buffers

    def describe(self) -> str:
        """One line per buffer and loop: its layout and who decided it (for dumps and tests)."""
        lines = []
        for buffer, layout in self.buffers.items():
            d = self.decided_by[buffer]
            lines.append(f"{buffer.name}: {layout!r} <- {d.op} ({d.level}{_line(d.span)})")
        for loop, frag in self.loops.items():
            d = self.loop_decided_by[loop]
            lines.append(f"loop {loop.var.name}{_line(loop.span, ' line ')}: {frag!r} <- {d.op} ({d.level})")
        return "\n".join(lines)


def _line(span, prefix=", line ") -> str:
    return f"{prefix}{span.line}" if span is not None else ""


def infer_layouts(func: PrimFunc, target: TargetDescription) -> LayoutMap:
    """The LayoutMap of every kernel in `func` (see the module docstring)."""
    result = LayoutMap()
    for kernel in _kernels(func.body):
        _Inference(kernel, target, result).run()
    return result


def layout_inference(func: PrimFunc, ctx: PassContext) -> PrimFunc:
    """The pass: the LayoutMap lands in ctx.layout_map; the IR is unchanged."""
    ctx.layout_map = infer_layouts(func, ctx.target)
    return func


# ---------------------------------------------------------------------------------- sites
@dataclasses.dataclass
class _Access:
    buffer: Buffer
    indices: tuple
    store: bool


@dataclasses.dataclass
class _Loop:
    """The outermost For of a T.Parallel nest, its variables and the accesses of its body."""

    node: S.For
    vars: tuple
    extents: tuple          # ints, or None when an extent is symbolic
    accesses: list
    side_effects: bool      # stores outside registers or atomics: replicas would repeat them
    num_threads: int

    @property
    def span(self):
        return self.node.span


@dataclasses.dataclass
class _Op:
    node: TOP.TileOp
    num_threads: int

    @property
    def span(self):
        return self.node.span


class _Collect(Visitor):
    """Tile ops and parallel nests of one kernel, in program order, with their thread counts."""

    def __init__(self, num_threads: int):
        self.threads = [num_threads]
        self.sites: list = []

    def visit_WarpSpecialize(self, node: S.WarpSpecialize):
        self.threads.append(S.WARP_GROUP_SIZE * len(node.warp_groups))
        self.visit(node.body)
        self.threads.pop()

    def visit_For(self, node: S.For):
        if node.kind != "parallel":
            return self.generic_visit(node)
        vars_, extents, body = [], [], node
        while isinstance(body, S.For) and body.kind == "parallel":
            vars_.append(body.var)
            extents.append(body.extent.value if isinstance(body.extent, E.IntImm) else None)
            body = body.body
        accesses = _Accesses()
        accesses.visit(body)
        self.sites.append(_Loop(node, tuple(vars_), tuple(extents) if None not in extents else None,
                                accesses.found, accesses.side_effects, self.threads[-1]))
        self.visit(body)  # tile ops nested in a parallel body are not expected, but stay visible

    def generic_visit(self, node):
        if isinstance(node, TOP.TileOp):
            self.sites.append(_Op(node, self.threads[-1]))
            return None
        return super().generic_visit(node)


class _Accesses(Visitor):
    def __init__(self):
        self.found: list = []
        self.side_effects = False

    def visit_BufferLoad(self, node: E.BufferLoad):
        self.found.append(_Access(node.buffer, node.indices, False))
        self.generic_visit(node)

    def visit_BufferStore(self, node: S.BufferStore):
        self.found.append(_Access(node.buffer, node.indices, True))
        if node.buffer.memory_scope not in (Scope.FRAGMENT, Scope.LOCAL, Scope.VAR):
            self.side_effects = True
        self.generic_visit(node)

    def visit_Atomic(self, node):
        self.side_effects = True
        self.generic_visit(node)

    def visit_Evaluate(self, node):
        self.side_effects = True  # intrinsics (prints, atomics written as calls)
        self.generic_visit(node)


def _kernels(body) -> list:
    found = []

    class _K(Visitor):
        def visit_KernelLaunch(self, node):
            found.append(node)

    _K().visit(body)
    return found


# ------------------------------------------------------------------------------ inference
def _op_name(node) -> str:
    if isinstance(node, TOP.Reduce):
        return f"T.reduce_{node.kind}"
    if isinstance(node, TOP.AtomicRegion):
        return f"T.atomic_{node.op}"
    return {TOP.Copy: "T.copy", TOP.Fill: "T.fill", TOP.Gemm: "T.gemm", TOP.CumSum: "T.cumsum",
            TOP.TmaCopy: "T.tma_copy", TOP.Print: "T.print"}.get(type(node), type(node).__name__)


def _is_fragment(buffer) -> bool:
    return isinstance(buffer, Buffer) and buffer.memory_scope == Scope.FRAGMENT


def _is_shared(buffer) -> bool:
    return isinstance(buffer, Buffer) and buffer.memory_scope in SHARED_SCOPES


class _Inference:
    def __init__(self, kernel: S.KernelLaunch, target: TargetDescription, result: LayoutMap):
        self.kernel = kernel
        self.target = target
        self.result = result
        collect = _Collect(kernel.num_threads)
        collect.visit(kernel.body)
        self.sites = collect.sites
        self.buffers = [b for b in kernel.allocations if _is_fragment(b) or _is_shared(b)]
        self.done: set = set()  # strict ops already applied (they demand once)
        self.parent: dict = {}  # union-find over fragments that share a layout
        self.reduce_dim: dict = {}
        self.link_reductions()

    # -- recording --------------------------------------------------------------------
    def decide(self, buffer: Buffer, layout, decision: Decision) -> bool:
        """Record a layout; True when new. A different existing layout is a conflict."""
        old = self.result.buffers.get(buffer)
        if old is not None:
            if old.is_equal(layout):
                return False
            before = self.result.decided_by[buffer]
            raise LayoutConflictError(
                f"{buffer.name} gets two different layouts:\n  {before.describe()}\n    chose {old!r}\n"
                f"  {decision.describe()}\n    needs {layout!r}\n"
                "use one layout for both (e.g. copy into a second buffer)", decision.span)
        if tuple(layout.shape) != buffer.static_shape():
            raise LoweringError(f"{decision.op} gave {buffer.name} a layout of shape {layout.shape}, "
                                f"but the buffer has shape {buffer.static_shape()}", decision.span)
        self.result.buffers[buffer] = layout
        self.result.decided_by[buffer] = decision
        return True

    def decide_loop(self, loop: _Loop, frag: Fragment, decision: Decision) -> bool:
        if loop.node in self.result.loops:
            return False
        self.result.loops[loop.node] = frag
        self.result.loop_decided_by[loop.node] = decision
        return True

    def known(self, buffer):
        return self.result.buffers.get(buffer)

    # -- driver -----------------------------------------------------------------------
    def run(self):
        self.annotations()
        while True:
            if any(self.strict(site) for site in self.sites):
                continue
            if any(self.common(site) for site in self.sites):
                continue
            if any(self.free(site) for site in self.sites):
                continue
            break
        self.defaults()
        for site in self.sites:
            self.verify(site)

    def annotations(self):
        ann = self.kernel.annotations.get("layout_map") or {}
        for buffer, layout in ann.items():
            want = Fragment if _is_fragment(buffer) else Layout
            if not isinstance(layout, want):
                raise TileLangTypeError(
                    f"T.annotate_layout: {buffer.name} is a {buffer.memory_scope} buffer and needs a "
                    f"tilelang.layout.{want.__name__}, got {layout!r}", buffer.span or self.kernel.span)
            self.decide(buffer, layout, Decision("T.annotate_layout", buffer.span or self.kernel.span))
        for site in self.sites:
            if isinstance(site, _Loop) and isinstance(site.node.annotations.get("loop_layout"), Fragment):
                self.decide_loop(site, site.node.annotations["loop_layout"],
                                 Decision("T.Parallel(loop_layout=...)", site.span))

    # strict: gemm and reduce demands
    def strict(self, site) -> bool:
        if not isinstance(site, _Op):
            return False
        node = site.node
        if isinstance(node, TOP.Gemm):
            return self.gemm(site)
        if isinstance(node, TOP.Reduce) and _is_fragment(node.dst.buffer) and node not in self.done:
            src = self.known(node.src.buffer)
            if isinstance(src, Fragment):
                self.done.add(node)
                dim = _reduce_dim(node)
                dst = replicated_rows(src, dim)
                if node.dst.buffer.ndim == len(src.shape) and len(src.shape) > 1:
                    dst = with_unit_dim(dst, dim)  # a (M, 1) result of reducing (M, N) along 1
                return self.decide(node.dst.buffer, dst, Decision(_op_name(node), node.span))
        return False

    def gemm(self, site: _Op) -> bool:
        node = site.node
        if node in self.done:
            return False
        self.done.add(node)
        layouts = mma.gemm_layouts(node, site.num_threads, self.target)
        changed = False
        for buffer, layout in layouts.items():
            if isinstance(layout, Layout) and len(layout.shape) < buffer.ndim:
                layout = _stack_to(layout, buffer)
            changed |= self.decide(buffer, layout, Decision("T.gemm", node.span))
        return changed

    # common: propagation through parallel nests and fragment copies
    def common(self, site) -> bool:
        if isinstance(site, _Loop):
            return self.common_loop(site)
        node = site.node
        if isinstance(node, (TOP.Copy, TOP.CumSum)) and _is_fragment(node.src.buffer) and _is_fragment(node.dst.buffer):
            src, dst = node.src.buffer, node.dst.buffer
            if src.static_shape() != dst.static_shape():
                return False
            a, b = self.known(src), self.known(dst)
            if a is not None and b is None:
                return self.decide(dst, a, Decision(_op_name(node), node.span, "common"))
            if b is not None and a is None:
                return self.decide(src, b, Decision(_op_name(node), node.span, "common"))
        return False

    def common_loop(self, loop: _Loop) -> bool:
        if loop.extents is None:
            return False
        frag = self.result.loops.get(loop.node)
        if frag is None:
            for acc in loop.accesses:
                known = self.known(acc.buffer)
                if isinstance(known, Fragment) and _direct(acc, loop):
                    return self.decide_loop(loop, known, Decision(
                        f"T.Parallel (from {acc.buffer.name})", loop.span, "common"))
            return False
        for acc in loop.accesses:
            if not _is_fragment(acc.buffer) or self.known(acc.buffer) is not None:
                continue
            layout = _projected(frag, acc, loop)
            if layout is not None:
                return self.decide(acc.buffer, layout, Decision("T.Parallel", loop.span, "common"))
        return False

    # free: one choice, then the stronger levels again
    def free(self, site) -> bool:
        if isinstance(site, _Loop):
            if site.extents is None or site.node in self.result.loops:
                return False
            vec = _vector_width(site.extents, [a.buffer.dtype for a in site.accesses], site.num_threads,
                                site.node.annotations.get("coalesced_width"))
            direct = [a.buffer for a in site.accesses if _is_fragment(a.buffer) and _direct(a, site)]
            plan = self.plan(site.extents, site.num_threads, vec, direct, replicate_small=not site.side_effects)
            return self.decide_loop(site, plan, Decision("T.Parallel", site.span, "free"))
        node = site.node
        for region, other in _fragment_operands(node):
            if self.known(region.buffer) is None:
                dtypes = [region.buffer.dtype] + ([other.buffer.dtype] if other is not None else [])
                shape = region.buffer.static_shape()
                vec = _vector_width(shape, dtypes, site.num_threads)
                return self.decide(region.buffer, self.plan(shape, site.num_threads, vec, [region.buffer]),
                                   Decision(_op_name(node), node.span, "free"))
        return False

    def defaults(self):
        for buffer in self.buffers:
            if buffer in self.result.buffers:
                continue
            shape = buffer.static_shape()
            if _is_shared(buffer):
                self.decide(buffer, row_major(shape), Decision("default", buffer.span, "free"))
            else:
                vec = _vector_width(shape, [buffer.dtype], self.kernel.num_threads)
                self.decide(buffer, self.plan(shape, self.kernel.num_threads, vec, [buffer]),
                            Decision("default", buffer.span, "free"))

    def plan(self, shape, num_threads, vec, buffers, replicate_small=True) -> Fragment:
        """A vectorized round-robin plan; where its rows would be irregular (shapes that are not
        powers of two) and the data is reduced later, whole lines per thread instead."""
        plan = parallel_plan(shape, num_threads, vec, replicate_small=replicate_small)
        if plan.linear is None:
            for b in buffers:
                dim = self.reduce_dim.get(self.group(b))
                if dim is not None and len(shape) > 1:
                    return line_plan(shape, num_threads, dim)
        return plan

    def group(self, buffer):
        while self.parent.get(buffer, buffer) is not buffer:
            buffer = self.parent[buffer]
        return buffer

    def link_reductions(self):
        """Fragments that must share a layout (one loop indexes them alike, or a copy joins
        them) form groups; a group reduced along `dim` remembers it for the free level."""
        def union(a, b):
            ra, rb = self.group(a), self.group(b)
            if ra is not rb:
                self.parent[ra] = rb

        for site in self.sites:
            if isinstance(site, _Loop) and site.extents is not None:
                direct = [a.buffer for a in site.accesses if _is_fragment(a.buffer) and _direct(a, site)]
                for a, b in zip(direct, direct[1:]):
                    union(a, b)
            elif isinstance(site, _Op) and isinstance(site.node, (TOP.Copy, TOP.CumSum)):
                src, dst = site.node.src.buffer, site.node.dst.buffer
                if _is_fragment(src) and _is_fragment(dst) and src.static_shape() == dst.static_shape():
                    union(src, dst)
        for site in self.sites:
            if isinstance(site, _Op) and isinstance(site.node, TOP.Reduce) and _is_fragment(site.node.src.buffer):
                self.reduce_dim.setdefault(self.group(site.node.src.buffer), _reduce_dim(site.node))

    # -- checks -----------------------------------------------------------------------
    def verify(self, site):
        """Every thread must hold in registers the fragment elements its iterations touch."""
        if isinstance(site, _Loop):
            frag = self.result.loops.get(site.node)
            if frag is None:
                return
            for acc in site.accesses:
                held = self.known(acc.buffer)
                if isinstance(held, Fragment):
                    self.check_holds(held, acc.buffer, frag, site, acc)
            return
        node = site.node
        if isinstance(node, TOP.Copy) and _is_fragment(node.src.buffer) and _is_fragment(node.dst.buffer):
            src, dst = self.known(node.src.buffer), self.known(node.dst.buffer)
            if not (isinstance(src, Fragment) and isinstance(dst, Fragment)):
                return
            if src.shape == dst.shape and not src.holds_all_of(dst):
                self.conflict(node.src.buffer, dst, Decision("T.copy", node.span),
                              f"the threads holding {node.dst.buffer.name} do not hold the same elements of "
                              f"{node.src.buffer.name}")

    def check_holds(self, held: Fragment, buffer: Buffer, loop_frag: Fragment, loop: _Loop, acc: _Access):
        decision = Decision("T.Parallel", loop.span)
        grids = np.indices(loop_frag.shape)
        idx = _index_tables(acc, loop, grids)
        if idx is None:
            return  # indices depend on more than the loop variables: lowering decides at run time
        if held.num_threads != loop_frag.num_threads:
            self.conflict(buffer, loop_frag, decision, "the loop runs on a different number of threads")
        inside = np.ones(loop_frag.shape, dtype=bool)
        for i, s in zip(idx, held.shape):
            inside &= (i >= 0) & (i < s)
        idx = [np.where(inside, i, 0) for i in idx]
        holders = held.tables()[0][(slice(None),) + tuple(idx)]        # (rep, *loop shape)
        for run_thread in loop_frag.tables()[0]:
            ok = np.any(holders == run_thread[None], axis=0) | ~inside
            if not np.all(ok):
                where = tuple(int(x[0]) for x in np.nonzero(~ok))
                elem = ", ".join(str(int(i[where])) for i in idx)
                names = ", ".join(f"{v.name}={x}" for v, x in zip(loop.vars, where))
                self.conflict(buffer, loop_frag, decision,
                              f"iteration ({names}) runs on thread {int(run_thread[where])}, which does not hold "
                              f"{buffer.name}[{elem}] in its registers")

    def conflict(self, buffer, needed, decision: Decision, why: str):
        before = self.result.decided_by.get(buffer)
        first = before.describe() if before is not None else "(undecided)"
        raise LayoutConflictError(
            f"{buffer.name}: {why}\n  {first}\n    chose {self.result.buffers.get(buffer)!r}\n"
            f"  {decision.describe()}\n    needs {needed!r}", decision.span)


# ------------------------------------------------------------------------------- helpers
def _fragment_operands(node):
    """(fragment region, the other operand or None) pairs of an op that lays fragments out freely."""
    if isinstance(node, (TOP.Copy, TOP.CumSum)):
        pairs = [(node.src, node.dst), (node.dst, node.src)]
    elif isinstance(node, TOP.Reduce):
        pairs = [(node.src, None)]
    elif isinstance(node, TOP.AtomicRegion) and isinstance(node.src, BufferRegion):
        pairs = [(node.src, node.dst)]
    else:
        return []
    return [(r, o) for r, o in pairs if _is_fragment(r.buffer)]


def _direct(acc: _Access, loop: _Loop) -> bool:
    """The access indexes the whole buffer by the nest's variables, in order."""
    return (len(acc.indices) == len(loop.vars) and all(i is v for i, v in zip(acc.indices, loop.vars))
            and acc.buffer.static_shape() == loop.extents)


def _projected(frag: Fragment, acc: _Access, loop: _Loop):
    """The fragment a buffer indexed by a subsequence of the nest's variables must have to be
    read in registers by this loop: the loop layout with the other dims replicated."""
    if not acc.indices:
        return None
    positions = []
    for i in acc.indices:
        pos = next((k for k, v in enumerate(loop.vars) if v is i), None)
        if pos is None:
            return None
        positions.append(pos)
    if positions != sorted(set(positions)):
        return None
    if acc.buffer.static_shape() != tuple(loop.extents[p] for p in positions):
        return None
    out = frag
    for dim in reversed(range(len(loop.vars))):
        if dim not in positions:
            out = replicated_rows(out, dim)
    return out


def _vector_width(shape, dtypes, num_threads: int, requested=None) -> int:
    """The widest power-of-two run (at most 16 bytes of the widest dtype) that divides the last
    extent and still gives every thread work."""
    if requested:
        return int(requested)
    widest = max((max(d.bits // 8, 1) for d in dtypes), default=4)
    vec = max(VECTOR_BYTES // widest, 1)
    total = int(np.prod(shape))
    while vec > 1 and (shape[-1] % vec or total // vec < num_threads):
        vec //= 2
    return vec


def _index_tables(acc: _Access, loop: _Loop, grids):
    env = {v: g for v, g in zip(loop.vars, grids)}
    try:
        return [np.broadcast_to(_evaluate(i, env), grids.shape[1:]) for i in acc.indices]
    except _NotStatic:
        return None


class _NotStatic(Exception):
    pass


_NUMPY_OPS = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "//": np.floor_divide, "%": np.mod,
    "&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor, "<<": np.left_shift,
    ">>": np.right_shift, "min": np.minimum, "max": np.maximum,
}


def _evaluate(e, env):
    """An index expression over numpy grids of the loop variables (other vars: not static)."""
    if isinstance(e, E.IntImm):
        return np.int64(e.value)
    if isinstance(e, E.Var):
        if e in env:
            return env[e]
        raise _NotStatic
    if isinstance(e, E.Binary) and e.op in _NUMPY_OPS:
        return _NUMPY_OPS[e.op](_evaluate(e.a, env), _evaluate(e.b, env))
    if isinstance(e, E.Cast) and e.dtype.is_int:
        return _evaluate(e.value, env)
    raise _NotStatic


def _reduce_dim(node: TOP.Reduce) -> int:
    return node.dim + node.src.buffer.ndim if node.dim < 0 else node.dim


def _stack_to(layout: Layout, buffer: Buffer) -> Layout:
    shape = buffer.static_shape()
    extra = shape[:len(shape) - len(layout.shape)]
    if len(extra) != 1:
        raise LoweringError(f"cannot extend a {layout.shape} layout to {buffer.name} of shape {shape}", buffer.span)
    return stacked(layout, extra[0])
