"""Readable text for IR, close to the TileLang a user wrote (`print(func)`)."""
from __future__ import annotations

import dataclasses

from . import expr as E
from .scope import Scope


class Printer(E.ExprPrinter):
    """Statements and functions; expressions, buffers and regions as `E.ExprPrinter` prints them."""

    def __init__(self, namer: E.Namer | None = None):
        super().__init__(namer)
        self.lines: list = []

    # -- statements --------------------------------------------------------------------
    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def stmt(self, s, indent: int = 0) -> None:
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is not None:
            return method(s, indent)
        self.emit(indent, self.tile_op(s))

    def stmt_SeqStmt(self, s, indent):
        for x in s.stmts:
            self.stmt(x, indent)

    def stmt_Evaluate(self, s, indent):
        v = s.value
        if isinstance(v, E.Call) and v.name not in E.MATH_INTRINSICS:
            args = ", ".join(self.expr(a) for a in v.args)
            return self.emit(indent, f"T.{v.name}({args})")
        self.emit(indent, f"T.evaluate({self.expr(v)})")

    def stmt_BufferStore(self, s, indent):
        idx = ", ".join(self.expr(i) for i in s.indices)
        self.emit(indent, f"{self.name(s.buffer)}[{idx}] = {self.expr(s.value)}")

    def stmt_IfThenElse(self, s, indent):
        self.emit(indent, f"if {self.expr(s.condition)}:")
        self.stmt(s.then_body, indent + 1)
        if s.else_body is not None:
            self.emit(indent, "else:")
            self.stmt(s.else_body, indent + 1)

    def stmt_LetStmt(self, s, indent):
        self.emit(indent, f"{self.name(s.var)} = {self.expr(s.value)}")
        self.stmt(s.body, indent)

    def stmt_While(self, s, indent):
        self.emit(indent, f"while {self.expr(s.condition)}:")
        self.stmt(s.body, indent + 1)

    def stmt_For(self, s, indent):
        var = self.name(s.var)
        ann = dict(s.annotations)
        if s.kind == "parallel":
            # A perfect nest of parallel loops prints as one `for i, j in T.Parallel(a, b)`.
            loops = [s]
            while isinstance(loops[-1].body, type(s)) and loops[-1].body.kind == "parallel":
                loops.append(loops[-1].body)
            names = ", ".join(self.name(l.var) for l in loops)
            extents = ", ".join(self.expr(l.extent) for l in loops)
            self.emit(indent, f"for {names} in T.Parallel({extents}):")
            self.stmt(loops[-1].body, indent + 1)
            return
        elif s.kind == "pipelined":
            extra = "".join(f", {k}={v!r}" for k, v in ann.items())
            head = f"T.Pipelined({self._range(s)}{extra})"
        elif s.kind == "thread":
            head = f"T.thread_binding({self.expr(s.extent)}, thread={ann.get('thread', 'threadIdx.x')!r})"
        else:
            name = {"serial": "T.serial", "unroll": "T.unroll", "vectorized": "T.vectorized"}[s.kind]
            head = f"{name}({self._range(s)})"
        self.emit(indent, f"for {var} in {head}:")
        self.stmt(s.body, indent + 1)

    def _range(self, s) -> str:
        if E.is_const(s.min, 0) and E.is_const(s.step, 1):
            return self.expr(s.extent)
        stop = E.end(s.min, s.extent * s.step)
        step = "" if E.is_const(s.step, 1) else f", {self.expr(s.step)}"
        return f"{self.expr(s.min)}, {self.expr(stop)}{step}"

    def stmt_KernelLaunch(self, s, indent):
        grid = ", ".join(self.expr(g) for g in s.grid)
        threads = s.threads[0] if len(s.threads) == 1 else tuple(s.threads)
        bvars = [self.name(v) for v in s.block_vars]
        target = bvars[0] if len(bvars) == 1 else "(" + ", ".join(bvars) + ")"
        self.emit(indent, f"with T.Kernel({grid}, threads={threads}) as {target}:")
        for dim, v in enumerate(s.thread_vars):
            self.emit(indent + 1, f"{self.name(v)} = T.get_thread_binding({dim})")
        for b in s.allocations:
            self.emit(indent + 1, self.allocation(b))
        self.stmt(s.body, indent + 1)

    def allocation(self, b) -> str:
        name = self.name(b)
        if b.memory_scope == Scope.BARRIER:
            counts = list(b.arrive_counts or ())
            return f"{name} = T.alloc_barrier({counts[0] if len(counts) == 1 else counts})"
        if b.memory_scope == Scope.VAR:
            return f"{name} = T.alloc_var({b.dtype.name!r})"
        fn = {Scope.SHARED_DYN: "alloc_shared", Scope.SHARED: "alloc_shared", Scope.LOCAL: "alloc_local",
              Scope.FRAGMENT: "alloc_fragment"}.get(b.memory_scope, "alloc_buffer")
        shape = "(" + ", ".join(self.expr(x) for x in b.shape) + ("," if len(b.shape) == 1 else "") + ")"
        scope = f", scope={b.memory_scope!r}" if b.memory_scope == Scope.SHARED else ""
        return f"{name} = T.{fn}({shape}, {b.dtype.name!r}{scope})"

    def stmt_WarpSpecialize(self, s, indent):
        self.emit(indent, f"with T.ws({', '.join(str(g) for g in s.warp_groups)}):")
        self.stmt(s.body, indent + 1)

    def stmt_Atomic(self, s, indent):
        idx = ", ".join(self.expr(i) for i in s.indices)
        self.emit(indent, f"T.atomic_{s.op}({self.name(s.buffer)}[{idx}], {self.expr(s.value)})")

    def stmt_DeviceAssert(self, s, indent):
        self.emit(indent, f"T.device_assert({self.expr(s.condition)}, {s.msg!r})")

    def tile_op(self, s) -> str:
        fmt = _TILE_FORMAT.get(type(s).__name__)
        if fmt is None:
            args = ", ".join(f"{f.name}={self.expr(getattr(s, f.name))}" for f in dataclasses.fields(s) if f.name != "span")
            return f"T.{type(s).__name__}({args})"
        return fmt(self, s)

    # -- functions -----------------------------------------------------------------------
    def func(self, f) -> str:
        params = []
        for p in f.params:
            if isinstance(p, E.Var):
                params.append(f"{self.name(p)}: T.{p.dtype.name}")
            else:
                shape = "(" + ", ".join(self.expr(x) for x in p.shape) + ("," if len(p.shape) == 1 else "") + ")"
                params.append(f"{self.name(p)}: T.Tensor({shape}, {p.dtype.name!r})")
        self.emit(0, "@T.prim_func")
        self.emit(0, f"def {f.name}({', '.join(params)}):")
        self.stmt(f.body, 1)
        return "\n".join(self.lines)


def _kw(**kwargs) -> str:
    return "".join(f", {k}={v!r}" for k, v in kwargs.items() if v is not None)


_TILE_FORMAT = {
    "Copy": lambda p, s: f"T.copy({p.region(s.src)}, {p.region(s.dst)})",
    "Fill": lambda p, s: f"T.fill({p.region(s.dst)}, {p.expr(s.value)})",
    "Gemm": lambda p, s: (f"T.gemm({p.region(s.a)}, {p.region(s.b)}, {p.region(s.c)}"
                          + (", transpose_A=True" if s.transpose_a else "") + (", transpose_B=True" if s.transpose_b else "")
                          + (f", policy=T.GemmWarpPolicy.{s.policy}" if s.policy != "Square" else "")
                          + (", clear_accum=True" if s.clear_accum else "") + ")"),
    "Reduce": lambda p, s: f"T.reduce_{s.kind}({p.region(s.src)}, {p.region(s.dst)}, dim={s.dim}{'' if s.clear else ', clear=False'})",
    "CumSum": lambda p, s: f"T.cumsum({p.region(s.src)}, {p.region(s.dst)}, dim={s.dim}{', reverse=True' if s.reverse else ''})",
    "AtomicRegion": lambda p, s: f"T.atomic_{s.op}({p.region(s.dst)}, {p.expr(s.src)})",
    "TmaCopy": lambda p, s: f"T.tma_copy({p.region(s.src)}, {p.region(s.dst)}, barrier={p.expr(s.barrier)})",
    "Print": lambda p, s: f"T.print({p.expr(s.value)}{', msg=' + repr(s.msg) if s.msg else ''})",
}


def region_to_str(r) -> str:
    return Printer().region(r)


def stmt_to_str(s) -> str:
    p = Printer()
    p.stmt(s)
    return "\n".join(p.lines)


def func_to_str(f) -> str:
    return Printer().func(f)
