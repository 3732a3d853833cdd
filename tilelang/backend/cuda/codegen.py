"""Lowered (thread-level) IR -> readable CUDA C++.

Input: a PrimFunc after `transform.pipeline.lower` (see docs/design-notes.md, "Lowered IR"):
no tile ops, one KernelLaunch, shared buffers 1-D in the dynamic arena, fragments as local
arrays. Output: one `extern "C" __global__` kernel using the types and primitives of tl.cuh.
"""
from __future__ import annotations

import dataclasses
import math

from ...errors import CompileError
from ...ir import expr as E
from ...ir import intrinsics as I
from ...ir import stmt as S
from ...ir.buffer import Buffer
from ...ir.expr import Namer
from ...ir.visitor import collect
from ...arith import VarRanges, merge_div_mod, simplify
from ...ir.visitor import substitute
from ...arith.divisibility import vector_width
from .intrinsics import FAST_MATH, MATH
from .intrinsics import spelled as intrinsic_text
from ...ir.scope import Scope

CTYPES = {
    "bool": "bool", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
    "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "unsigned", "uint64": "uint64_t",
    "float16": "half_t", "bfloat16": "bfloat16_t", "float32": "float", "float64": "double",
    "float8_e4m3": "float8_e4m3_t", "float8_e5m2": "float8_e5m2_t", "handle": "void*",
}

_BINARY = {"+": "+", "-": "-", "*": "*", "/": "/", "//": "/", "%": "%", "&": "&", "|": "|", "^": "^",
           "<<": "<<", ">>": ">>", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
           "and": "&&", "or": "||"}
_PREC = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, "<=": 7, ">": 7, ">=": 7,
         "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10}

_VECTOR_TYPES = {4: "unsigned", 8: "uint2", 16: "uint4"}

_FLOOR_HELPERS = """template <typename T> __device__ __forceinline__ T tl_floordiv(T a, T b) {
  T q = a / b;
  return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
}
template <typename T> __device__ __forceinline__ T tl_floormod(T a, T b) {
  T m = a % b;
  return (m != 0 && ((m < 0) != (b < 0))) ? m + b : m;
}"""


def ctype(dtype) -> str:
    return CTYPES[dtype.name]


@dataclasses.dataclass
class KernelSignature:
    """What the launcher needs to know about the generated kernel's parameters."""

    name: str
    params: list  # (name, kind, obj): kind 'ptr' | 'i32' | 'i64' | 'f32' | 'f64' | 'tensormap'; obj the IR object
    vector_bytes: dict = dataclasses.field(default_factory=dict)  # ptr param name -> widest vector / cp.async
    # access in bytes (16 for a TMA descriptor's tensor); the pointer must be aligned to it


class CodeGen:
    def __init__(self, func):
        self.func = func
        self.name = Namer()
        self.lines: list = []
        self.scalars: set = set()  # local.var buffers printed as scalars
        self.ranges = VarRanges(sizes=func.attrs.get("size_vars", ()))
        self.replaced: dict = {}  # id(BufferLoad) -> text (vector operands read ahead)
        self.vector_aligned = False  # the vectorized loop being printed was proven aligned
        self.last_span = None
        self.vector_bytes: dict = {}  # global Buffer -> widest vector access (bytes)

    # -- entry ---------------------------------------------------------------------------
    def generate(self) -> tuple[str, KernelSignature]:
        func = self.func
        launch = _find_launch(func.body)
        params, sig = [], []
        for p in func.params:
            pname = self.name(p)
            if isinstance(p, Buffer):
                params.append(f"{ctype(p.dtype)}* __restrict__ {pname}")
                sig.append((pname, "ptr", p))
            else:
                params.append(f"{ctype(p.dtype)} {pname}")
                sig.append((pname, _scalar_kind(p.dtype), p))
        for v in func.attrs.get("size_vars", ()):
            if not any(v is p for p in func.params):
                params.append(f"{ctype(v.dtype)} {self.name(v)}")
                sig.append((self.name(v), _scalar_kind(v.dtype), v))
        for desc in func.attrs.get("tma_descriptors", ()):
            params.append(f"const __grid_constant__ tl::TmaDescriptor {self.name(desc.var)}")
            sig.append((self.name(desc.var), "tensormap", desc))
        threads = launch.num_threads
        kname = f"{func.name}_kernel"
        head = f'extern "C" __global__ void __launch_bounds__({threads}) {kname}({", ".join(params)}) {{'
        self.lines.append('#include "tl.cuh"')
        self.lines.append("using namespace tl;")
        self.lines.append("")
        self.lines.append(head)
        self.kernel(launch, 1)
        self.lines.append("}")
        if any("tl_floordiv<" in line or "tl_floormod<" in line for line in self.lines):
            self.lines[2:2] = [_FLOOR_HELPERS]
        if any("tl::gemm_" in line for line in self.lines):
            self.lines.insert(1, '#include "tl_gemm.cuh"')
        if any("tl::wgmma_gemm_" in line for line in self.lines):
            self.lines.insert(1, '#include "tl_wgmma.cuh"')
        for desc in func.attrs.get("tma_descriptors", ()):
            self.vector_access(desc.buffer, 16)  # the tensor map's global address
        widths = {pname: self.vector_bytes[p] for pname, kind, p in sig if kind == "ptr" and p in self.vector_bytes}
        return "\n".join(self.lines) + "\n", KernelSignature(kname, sig, widths)

    def vector_access(self, buffer, nbytes: int) -> None:
        """Note that a global buffer is accessed `nbytes` at a time (its pointer must be aligned)."""
        if buffer.memory_scope == Scope.GLOBAL and nbytes > 1:
            self.vector_bytes[buffer] = max(nbytes, self.vector_bytes.get(buffer, 0))

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("  " * indent + text)

    def mark(self, s, indent: int) -> None:
        """`// tilelang: file:line: source` above the first statement from each user line."""
        span = getattr(s, "span", None)
        if span is None or span == self.last_span:
            return
        self.last_span = span
        text = span.source_line().strip()
        self.emit(indent, f"// tilelang: {span.file}:{span.line}: {text}")

    # -- kernel body -----------------------------------------------------------------------
    def kernel(self, k: S.KernelLaunch, indent: int) -> None:
        self.ranges.enter_launch(k)
        axes = "xyz"
        swizzle = k.annotations.get("block_swizzle")
        if swizzle and len(k.block_vars) >= 2:
            self.block_swizzle(k, swizzle, indent)
        else:
            for v, ax in zip(k.block_vars, axes):
                self.emit(indent, f"const int {self.name(v)} = blockIdx.{ax};")
        for v, ax in zip(k.thread_vars, axes):
            self.emit(indent, f"const int {self.name(v)} = threadIdx.{ax};")
        offsets = k.annotations.get("smem_offsets", {})
        if offsets:
            self.emit(indent, "extern __shared__ __align__(1024) uint8_t tl_smem[];")
        for b in k.allocations:
            name = self.name(b)
            scope = b.memory_scope
            if scope.is_shared_memory:
                t = "uint64_t" if scope == Scope.BARRIER else ctype(b.dtype)
                if b not in offsets:
                    raise CompileError(f"shared buffer {b.name} has no place in the shared-memory arena")
                self.emit(indent, f"{t}* {name} = reinterpret_cast<{t}*>(tl_smem + {offsets[b]});")
            elif scope == Scope.VAR:
                self.scalars.add(b)
                self.emit(indent, f"{ctype(b.dtype)} {name};")
            else:
                n = 1
                for s in b.shape:
                    n *= int(s)
                align = min(16, n * b.dtype.bytes) if n * b.dtype.bytes >= 8 else 0
                al = f"alignas({align}) " if align and (n * b.dtype.bytes) % align == 0 else ""
                self.emit(indent, f"{al}{ctype(b.dtype)} {name}[{n}];")
        self.stmt(k.body, indent)

    def block_swizzle(self, k, swizzle, indent) -> None:
        """T.use_swizzle: consecutive blocks walk panels of `panel` columns (rows for "col")
        so that neighbours share operand tiles in L2."""
        panel, order = int(swizzle[0]), swizzle[1]
        major, minor = ("x", "y") if order != "col" else ("y", "x")
        self.emit(indent, f"const int tl_bid = blockIdx.{minor} * gridDim.{major} + blockIdx.{major};")
        self.emit(indent, f"const int tl_panel = tl_bid / ({panel} * (int)gridDim.{minor});")
        self.emit(indent, f"const int tl_in_panel = tl_bid % ({panel} * (int)gridDim.{minor});")
        self.emit(indent, f"const int tl_width = tl::min<int>({panel}, (int)gridDim.{major} - tl_panel * {panel});")
        names = {ax: self.name(v) for v, ax in zip(k.block_vars, "xyz")}
        self.emit(indent, f"const int {names[major]} = tl_panel * {panel} + tl_in_panel % tl_width;")
        self.emit(indent, f"const int {names[minor]} = tl_in_panel / tl_width;")
        if "z" in names:
            self.emit(indent, f"const int {names['z']} = blockIdx.z;")

    def stmt(self, s, indent: int) -> None:
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            raise CompileError(f"codegen: {type(s).__name__} should have been lowered before codegen", s.span)
        method(s, indent)

    def stmt_SeqStmt(self, s, indent):
        for x in s.stmts:
            self.stmt(x, indent)

    def stmt_Evaluate(self, s, indent):
        self.mark(s, indent)
        self.emit(indent, self.expr(s.value) + ";")

    def stmt_BufferStore(self, s, indent):
        self.mark(s, indent)
        self.emit(indent, f"{self.access(s.buffer, s.indices)} = {self.expr(s.value)};")

    def stmt_IfThenElse(self, s, indent):
        self.mark(s, indent)
        self.emit(indent, f"if ({self.expr(s.condition)}) {{")
        with self.ranges.scope():
            self.ranges.assume(s.condition)
            self.stmt(s.then_body, indent + 1)
        if s.else_body is not None:
            self.emit(indent, "} else {")
            self.stmt(s.else_body, indent + 1)
        self.emit(indent, "}")

    def stmt_LetStmt(self, s, indent):
        self.ranges.enter_let(s.var, s.value)
        self.mark(s, indent)
        self.emit(indent, f"const {ctype(s.var.dtype)} {self.name(s.var)} = {self.expr(s.value)};")
        self.stmt(s.body, indent)

    def stmt_While(self, s, indent):
        self.mark(s, indent)
        self.emit(indent, f"while ({self.expr(s.condition)}) {{")
        self.stmt(s.body, indent + 1)
        self.emit(indent, "}")

    def stmt_For(self, s, indent):
        self.mark(s, indent)
        self.ranges.enter_loop(s)
        if s.kind == "vectorized" and self.vector_copy(s, indent):
            return
        v = self.name(s.var)
        t = ctype(s.var.dtype)
        lo, ext, step = s.min, s.extent, s.step
        if s.kind in ("unroll", "vectorized") or (s.kind == "serial" and s.annotations.get("unroll")):
            self.emit(indent, "#pragma unroll")
        stop = E.binary("+", lo, E.binary("*", ext, step))
        inc = f"++{v}" if E.is_const(step, 1) else f"{v} += {self.expr(step)}"
        self.emit(indent, f"for ({t} {v} = {self.expr(lo)}; {v} < {self.expr(stop)}; {inc}) {{")
        self.stmt(s.body, indent + 1)
        self.emit(indent, "}")

    def vector_copy(self, s: S.For, indent: int) -> bool:
        """A vectorized loop whose body is one store: memory operands move as uint/uint2/uint4.

        `dst[a + i] = src[b + i]` is one vector copy. Otherwise loads from global / shared memory
        that walk the loop var are read as vectors into registers first, the elements are
        computed, and a global / shared destination is written as one vector."""
        body = s.body
        if not isinstance(body, S.BufferStore) or body.buffer in self.scalars:
            return False
        if not (E.is_const(s.extent) and E.is_const(s.min, 0) and E.is_const(s.step, 1)):
            return False
        n = s.extent.value
        self.vector_aligned = bool(s.annotations.get("aligned"))  # else each start is checked below
        d0 = self.vector_start(s.var, body.buffer, body.indices, n)
        if d0 is None:
            return False
        src = body.value if isinstance(body.value, E.BufferLoad) and body.value.dtype == body.buffer.dtype else None
        s0 = self.vector_start(s.var, src.buffer, src.indices, n) if src is not None else None
        local_dst = body.buffer.memory_scope == Scope.LOCAL
        if s0 is not None and not (local_dst and src.buffer.memory_scope == Scope.LOCAL):
            vt = _VECTOR_TYPES[n * body.buffer.dtype.bytes]
            self.vector_access(body.buffer, n * body.buffer.dtype.bytes)
            self.vector_access(src.buffer, n * body.buffer.dtype.bytes)
            dst = f"*reinterpret_cast<{vt}*>(&{self.name(body.buffer)}[{self.expr(d0)}])"
            val = f"*reinterpret_cast<const {vt}*>(&{self.name(src.buffer)}[{self.expr(s0)}])"
            self.emit(indent, f"{dst} = {val};")
            return True

        loads = []
        for load in collect(body.value, lambda x: isinstance(x, E.BufferLoad)):
            if load.buffer.memory_scope == Scope.LOCAL or load.buffer in self.scalars or any(load is x for x, _ in loads):
                continue
            start = self.vector_start(s.var, load.buffer, load.indices, n)
            if start is not None:
                loads.append((load, start))
        if local_dst and not loads:
            return False  # registers from registers: plain per-element code is best
        v = self.name(s.var)
        self.emit(indent, "{")
        for k, (load, start) in enumerate(loads):
            t, vt = ctype(load.dtype), _VECTOR_TYPES[n * load.dtype.bytes]
            self.vector_access(load.buffer, n * load.dtype.bytes)
            self.emit(indent + 1, f"alignas(16) {t} tl_ld{k}[{n}];")
            self.emit(indent + 1, f"*reinterpret_cast<{vt}*>(tl_ld{k}) = "
                                  f"*reinterpret_cast<const {vt}*>(&{self.name(load.buffer)}[{self.expr(start)}]);")
            self.replaced[id(load)] = f"tl_ld{k}[{v}]"
        target = f"{self.name(body.buffer)}[{self.expr(d0)} + {v}]" if local_dst else f"tl_vec[{v}]"
        if not local_dst:
            self.emit(indent + 1, f"alignas(16) {ctype(body.buffer.dtype)} tl_vec[{n}];")
        self.emit(indent + 1, "#pragma unroll")
        self.emit(indent + 1, f"for (int {v} = 0; {v} < {n}; ++{v}) {{")
        self.emit(indent + 2, f"{target} = {self.expr(body.value)};")
        self.emit(indent + 1, "}")
        for load, _ in loads:
            self.replaced.pop(id(load), None)
        if not local_dst:
            vt = _VECTOR_TYPES[n * body.buffer.dtype.bytes]
            self.vector_access(body.buffer, n * body.buffer.dtype.bytes)
            self.emit(indent + 1, f"*reinterpret_cast<{vt}*>(&{self.name(body.buffer)}[{self.expr(d0)}]) = "
                                  f"*reinterpret_cast<const {vt}*>(tl_vec);")
        self.emit(indent, "}")
        return True

    def vector_start(self, var, buffer, indices, n):
        """The flat index of element 0 when `buffer[indices]` walks `var` with unit stride and the
        n elements make a 4/8/16-byte vector; else None."""
        if buffer in self.scalars or n * buffer.dtype.bytes not in _VECTOR_TYPES:
            return None

        flat = indices[0] if len(indices) == 1 else _row_major(buffer, indices)
        if not _uses(flat, var):
            return None
        if isinstance(flat, E.Binary) and flat.op == "+" and flat.b is var and not _uses(flat.a, var):
            return flat.a if self.aligned(buffer, flat.a, n) else None
        zero = simplify(substitute(flat, {var: E.const(0, var.dtype)}))
        one = simplify(substitute(flat, {var: E.const(1, var.dtype)}))
        start = zero if _is_int(simplify(one - zero), 1) and _affine_in(flat, var) else None
        return start if start is not None and self.aligned(buffer, start, n) else None

    def aligned(self, buffer, start, n) -> bool:
        """A user's T.vectorized loop moves whole vectors only where the start is provably a
        multiple of n elements (lowerings mark the loops whose alignment they proved)."""
        if self.vector_aligned:
            return True
        return vector_width(n, (start, *buffer.shape[-1:])) == n

    # -- expressions ---------------------------------------------------------------------------
    def access(self, buffer, indices) -> str:
        name = self.name(buffer)
        if buffer in self.scalars:
            return name
        if len(indices) != 1:
            idx = _row_major(buffer, indices)
        else:
            idx = indices[0]
        return f"{name}[{self.expr(idx)}]"

    def expr(self, e, parent: int = 0) -> str:
        method = getattr(self, "expr_" + type(e).__name__)
        return method(e, parent)

    def expr_IntImm(self, e, parent):
        if e.dtype.is_bool:
            return "true" if e.value else "false"
        v = e.value
        if e.dtype.name == "int32":
            return str(v) if v >= 0 or parent == 0 else f"({v})"
        if e.dtype.name == "int64":
            return f"(int64_t){v}" if parent == 0 else f"((int64_t){v})"
        return f"(({ctype(e.dtype)}){v})"

    def expr_FloatImm(self, e, parent):
        v = e.value
        t = e.dtype.name
        if math.isinf(v):
            ct = "float" if t != "float64" else "double"
            text = f"tl::infinity<{ct}>()" if v > 0 else f"(-tl::infinity<{ct}>())"
        elif math.isnan(v):
            text = "__int_as_float(0x7fc00000)"
        else:
            text = repr(float(v))
            if "e" not in text and "." not in text:
                text += ".0"
            if t != "float64":
                text += "f"
        if t in ("float32", "float64"):
            return text if not text.startswith("-") or parent == 0 else f"({text})"
        return f"{ctype(e.dtype)}({text})"

    def expr_StringImm(self, e, parent):
        return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    def expr_Var(self, e, parent):
        return self.name(e)

    def expr_BufferLoad(self, e, parent):
        replaced = self.replaced.get(id(e))
        if replaced is not None:
            return replaced
        return self.access(e.buffer, e.indices)

    def expr_Binary(self, e, parent):
        if e.op in ("min", "max"):
            return f"tl::{e.op}<{ctype(e.dtype)}>({self.expr(e.a)}, {self.expr(e.b)})"
        if e.dtype.is_float and e.op in ("//", "%"):
            a, b = self.expr(e.a), self.expr(e.b)
            if e.op == "//":
                return f"floorf({a} / {b})"
            return f"({a} - {b} * floorf({a} / {b}))"
        if e.op in ("//", "%") and e.dtype.is_int and e.dtype.is_signed and not (
                self.ranges.nonneg(e.a) and self.ranges.nonneg(e.b)):
            # Python's floor division / modulo; C++ truncates toward zero for negative operands
            a, b = self.expr(e.a), self.expr(e.b)
            t = ctype(e.dtype)
            if e.op == "//":
                return f"tl_floordiv<{t}>({a}, {b})"
            return f"tl_floormod<{t}>({a}, {b})"
        op = _BINARY[e.op]
        prec = _PREC[op]
        text = f"{self.expr(e.a, prec)} {op} {self.expr(e.b, prec + 1)}"
        if e.dtype.name in ("float16", "bfloat16") and op in "+-*/":
            # half arithmetic computes in float in C++; keep the IR's type at each step
            return f"{ctype(e.dtype)}({text})"
        return f"({text})" if prec < parent or (parent and prec <= 8) else text

    def expr_Unary(self, e, parent):
        op = {"-": "-", "~": "~", "not": "!"}[e.op]
        return f"({op}{self.expr(e.a, 11)})" if parent else f"{op}{self.expr(e.a, 11)}"

    def expr_Select(self, e, parent):
        return f"({self.expr(e.cond, 1)} ? {self.expr(e.true_value)} : {self.expr(e.false_value)})"

    def expr_Cast(self, e, parent):
        return f"(({ctype(e.dtype)})({self.expr(e.value)}))"

    def expr_Call(self, e, parent):
        intrinsic = I.lookup(e)
        if intrinsic is None and e.name.startswith("tl::"):
            # the gemm lowering's calls still carry their C++ name (until they become intrinsics)
            return f"{e.name}({', '.join(self.arg(a) for a in e.args)})"
        if intrinsic is None:
            raise CompileError(f"codegen: {e.name!r} is not a registered intrinsic")
        if I.is_math(e):
            return self.math(e)
        if intrinsic in (I.ASYNC_COPY, I.ASYNC_COPY_ZFILL):
            for a in e.args:
                if I.ADDRESS_OF.matches(a) and isinstance(a.args[0], E.BufferLoad):
                    self.vector_access(a.args[0].buffer, int(e.args[0].value))
        text = intrinsic_text(e, [self.arg(a) for a in e.args])
        if text is None:
            raise CompileError(f"codegen: no CUDA spelling for the intrinsic {e.name!r}")
        return text

    def arg(self, a) -> str:
        if isinstance(a, Buffer):
            return self.name(a)
        if isinstance(a, str):
            return a
        return self.expr(a)

    def math(self, e: E.Call) -> str:
        intrinsic, dt = I.lookup(e), e.args[0].dtype
        name = intrinsic.name
        args = [self.expr(a) for a in e.args]
        if name in ("isnan", "isinf"):
            return f"{name}(float({args[0]}))" if dt.name != "float64" else f"{name}({args[0]})"
        if name == "abs" and not dt.is_float:
            return f"abs({args[0]})" if dt.bits <= 32 else f"llabs({args[0]})"
        if dt.name == "float64":
            fn = {"abs": "fabs"}.get(name, MATH.get(intrinsic, name).rstrip("f") if name != "sigmoid" else "")
            if name == "sigmoid":
                return f"(1.0 / (1.0 + exp(-{args[0]})))"
            return f"{fn}({', '.join(args)})"
        if dt.name != "float32":
            args = [f"float({a})" for a in args]
        fast = self.func.attrs.get("fast_math")
        if name == "sigmoid":
            exp = I.MATH["exp"]
            text = f"(1.0f / (1.0f + {FAST_MATH[exp] if fast else MATH[exp]}(-{args[0]})))"
        else:
            fn = FAST_MATH[intrinsic] if fast and intrinsic in FAST_MATH else MATH[intrinsic]
            text = f"{fn}({', '.join(args)})"
        return text if dt.name == "float32" else f"{ctype(e.dtype)}({text})"


def _uses(e, var) -> bool:

    return bool(collect(e, lambda n: n is var))


def _affine_in(e, var) -> bool:
    """e is a sum in which var appears only as a plain `+ var` term (no *, /, %, ^ around it)."""
    if e is var:
        return True
    if isinstance(e, E.Binary) and e.op in ("+", "-"):
        a, b = _uses(e.a, var), _uses(e.b, var)
        if e.op == "-" and b:
            return False
        return (not a or _affine_in(e.a, var)) and (not b or _affine_in(e.b, var))
    return not _uses(e, var)


def _is_int(e, v) -> bool:
    return isinstance(e, E.IntImm) and e.value == v


def _row_major(buffer, indices):

    flat = None
    for i, s in zip(indices, buffer.shape):
        flat = i if flat is None else flat * s + i
    return merge_div_mod(simplify(flat))  # y // c * c + y % c (a tile walked flat) -> y


def _scalar_kind(dtype) -> str:
    if dtype.is_float:
        return "f64" if dtype.bits == 64 else "f32"
    return "i64" if dtype.bits == 64 else "i32"


def _find_launch(body) -> S.KernelLaunch:

    found = collect(body, lambda n: isinstance(n, S.KernelLaunch))
    if len(found) != 1:
        raise CompileError(f"a CUDA kernel needs exactly one T.Kernel block, found {len(found)}")
    return found[0]


def generate(func) -> tuple[str, KernelSignature]:
    """CUDA C++ source for a lowered PrimFunc, and its parameter list."""
    return CodeGen(func).generate()
