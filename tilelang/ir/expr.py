"""Typed scalar expressions.

Nodes are frozen dataclasses compared by identity (`==` builds an `EQ` expression, as in
TVM); structural comparison lives in `ir.structural`. Python operators build nodes through
`binary`/`unary`, which apply the type rules and fold constants, so the frontend, the
layout algebra and the passes all build expressions the same way.
"""
from __future__ import annotations

import dataclasses
import math
import operator

from ..errors import TileLangTypeError
from .dtypes import DType, as_dtype, promote, bool_, int32, int64, float32

_node = dataclasses.dataclass(frozen=True, eq=False, slots=True, repr=False)


class Expr:
    """Base of scalar expressions. Every node has a `dtype`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return ExprPrinter().expr(self)

    # arithmetic
    def __add__(self, o): return binary("+", self, o)
    def __radd__(self, o): return binary("+", o, self)
    def __sub__(self, o): return binary("-", self, o)
    def __rsub__(self, o): return binary("-", o, self)
    def __mul__(self, o): return binary("*", self, o)
    def __rmul__(self, o): return binary("*", o, self)
    def __truediv__(self, o): return binary("/", self, o)
    def __rtruediv__(self, o): return binary("/", o, self)
    def __floordiv__(self, o): return binary("//", self, o)
    def __rfloordiv__(self, o): return binary("//", o, self)
    def __mod__(self, o): return binary("%", self, o)
    def __rmod__(self, o): return binary("%", o, self)
    def __pow__(self, o): return call("pow", self, o)
    def __rpow__(self, o): return call("pow", o, self)
    def __neg__(self): return unary("-", self)
    def __pos__(self): return self
    def __abs__(self): return call("abs", self)
    # bits (logical on bools)
    def __and__(self, o): return binary("&", self, o)
    def __rand__(self, o): return binary("&", o, self)
    def __or__(self, o): return binary("|", self, o)
    def __ror__(self, o): return binary("|", o, self)
    def __xor__(self, o): return binary("^", self, o)
    def __rxor__(self, o): return binary("^", o, self)
    def __lshift__(self, o): return binary("<<", self, o)
    def __rlshift__(self, o): return binary("<<", o, self)
    def __rshift__(self, o): return binary(">>", self, o)
    def __rrshift__(self, o): return binary(">>", o, self)
    def __invert__(self): return unary("~", self)
    # comparisons build expressions
    def __eq__(self, o): return binary("==", self, o)
    def __ne__(self, o): return binary("!=", self, o)
    def __lt__(self, o): return binary("<", self, o)
    def __le__(self, o): return binary("<=", self, o)
    def __gt__(self, o): return binary(">", self, o)
    def __ge__(self, o): return binary(">=", self, o)

    __hash__ = object.__hash__

    def __bool__(self):
        raise TileLangTypeError(
            f"the device value `{self!r}` has no Python truth value; use it in an `if` inside the "
            "kernel (a runtime branch), or T.if_then_else / T.And / T.Or")

    def astype(self, dtype) -> "Expr":
        return cast(self, dtype)


@_node
class IntImm(Expr):
    dtype: DType
    value: int

    def __bool__(self): return bool(self.value)
    def __index__(self): return self.value
    def __int__(self): return self.value
    def __float__(self): return float(self.value)


@_node
class FloatImm(Expr):
    dtype: DType
    value: float

    def __float__(self): return float(self.value)
    def __bool__(self): return bool(self.value)


@_node
class StringImm(Expr):
    dtype: DType
    value: str


@_node
class Var(Expr):
    """A named scalar: loop variable, thread/block index, symbolic shape, kernel argument."""

    dtype: DType
    name: str


@_node
class BufferLoad(Expr):
    dtype: DType
    buffer: "object"  # ir.buffer.Buffer (kept untyped to avoid an import cycle)
    indices: tuple


@_node
class Binary(Expr):
    """`a op b` for op in BINARY_OPS."""

    dtype: DType
    op: str
    a: Expr
    b: Expr


@_node
class Unary(Expr):
    """`-a`, `~a` (bitwise not) or `not a` (op 'not')."""

    dtype: DType
    op: str
    a: Expr


@_node
class Select(Expr):
    """`true_value if cond else false_value`, both sides evaluated (T.if_then_else)."""

    dtype: DType
    cond: Expr
    true_value: Expr
    false_value: Expr


@_node
class Cast(Expr):
    dtype: DType
    value: Expr


@_node
class Call(Expr):
    """An intrinsic: math (exp, exp2, ...), thread builtins, and anything a pass needs."""

    dtype: DType
    name: str
    args: tuple


ARITH_OPS = ("+", "-", "*", "/", "//", "%", "min", "max")
BIT_OPS = ("&", "|", "^", "<<", ">>")
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")
LOGIC_OPS = ("and", "or")
BINARY_OPS = ARITH_OPS + BIT_OPS + COMPARE_OPS + LOGIC_OPS


# ------------------------------------------------------------------------------ conversion
def const(value, dtype=None) -> Expr:
    """A constant of `dtype` (default: int32/int64 for ints, float32 for floats, bool)."""
    if dtype is not None:
        dtype = as_dtype(dtype)
    if isinstance(value, bool) or (dtype is not None and dtype.is_bool):
        return IntImm(bool_, bool(value)) if dtype is None or dtype.is_bool else IntImm(dtype, int(value))
    if dtype is None:
        if isinstance(value, int):
            return IntImm(int32 if -2**31 <= value < 2**31 else int64, value)
        return FloatImm(float32, float(value))
    if dtype.is_float:
        return FloatImm(dtype, float(value))
    if isinstance(value, float) and not value.is_integer():
        raise TypeError(f"cannot make an {dtype} constant from {value!r}")
    return IntImm(dtype, int(value))


def convert(value, dtype=None) -> Expr:
    """Turn a Python number, a scalar-var buffer or an Expr into an Expr."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, (bool, int, float)):
        return const(value, dtype)
    as_expr = getattr(value, "__tl_expr__", None)
    if as_expr is not None:
        return as_expr()
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return const(value.item(), dtype if dtype is not None else as_dtype(value.dtype))
    except ImportError:  # pragma: no cover
        pass
    raise TileLangTypeError(f"expected a number or a device expression, got {type(value).__name__} {value!r}")


def is_const(e, value=None) -> bool:
    if isinstance(e, (IntImm, FloatImm)):
        return value is None or e.value == value
    return False


def _literal_pair(a, b):
    """Convert operands; a Python literal adopts the other side's dtype (as in TVM)."""
    a_lit = not isinstance(a, Expr) and isinstance(a, (bool, int, float))
    b_lit = not isinstance(b, Expr) and isinstance(b, (bool, int, float))
    if a_lit and not b_lit:
        b = convert(b)
        return _literal_like(a, b.dtype), b
    if b_lit and not a_lit:
        a = convert(a)
        return a, _literal_like(b, a.dtype)
    return convert(a), convert(b)


def _literal_like(value, dtype: DType) -> Expr:
    if isinstance(value, float) and not dtype.is_float:
        return const(value)  # float literal with an int expression: float32, the int is cast
    if dtype.is_bool and not isinstance(value, bool):
        return const(value)
    return const(value, dtype)


def cast(value, dtype) -> Expr:
    dtype = as_dtype(dtype)
    value = convert(value)
    if value.dtype == dtype:
        return value
    if isinstance(value, (IntImm, FloatImm)):
        v = value.value
        if dtype.is_float:
            return FloatImm(dtype, float(v))
        if dtype.is_bool:
            return IntImm(bool_, bool(v))
        if math.isfinite(v):
            return IntImm(dtype, int(v))
    return Cast(dtype, value)


# ------------------------------------------------------------------------------ builders
def _floordiv(x, y):
    return x // y


def _truncdiv(x, y):
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y > 0) else -q


_FOLD = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "//": _floordiv, "%": operator.mod,
    "min": min, "max": max, "&": operator.and_, "|": operator.or_, "^": operator.xor,
    "<<": operator.lshift, ">>": operator.rshift,
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "and": lambda x, y: bool(x and y), "or": lambda x, y: bool(x or y),
}


def binary(op: str, a, b) -> Expr:
    """Build `a op b` with type promotion and constant folding."""
    a, b = _literal_pair(a, b)
    if op in ("and", "or"):
        a, b = _as_bool(a), _as_bool(b)
        return _fold_logic(op, a, b)
    if op in ("&", "|") and a.dtype.is_bool and b.dtype.is_bool:
        return _fold_logic("and" if op == "&" else "or", a, b)
    dtype = promote(a.dtype, b.dtype)
    if op in BIT_OPS and dtype.is_float:
        raise TileLangTypeError(f"bitwise `{op}` needs integer operands, got {a.dtype} and {b.dtype}")
    a, b = cast(a, dtype), cast(b, dtype)
    result_dtype = bool_ if op in COMPARE_OPS else dtype
    folded = _fold_binary(op, a, b, result_dtype)
    if folded is not None:
        return folded
    return Binary(result_dtype, op, a, b)


def _fold_binary(op, a, b, dtype):
    if isinstance(a, (IntImm, FloatImm)) and isinstance(b, (IntImm, FloatImm)):
        x, y = a.value, b.value
        if op == "/":
            if y == 0:
                return None
            return const(x / y if dtype.is_float else _truncdiv(x, y), dtype)
        if op in ("//", "%") and y == 0:
            return None
        if op in ("//", "%") and dtype.is_float:
            return const(math.floor(x / y) if op == "//" else x - y * math.floor(x / y), dtype)
        return const(_FOLD[op](x, y), dtype)
    # identities that keep index math readable (exact for integers and floats alike)
    if op == "+":
        if is_const(b, 0):
            return a
        if is_const(a, 0):
            return b
    elif op == "-":
        if is_const(b, 0):
            return a
    elif op == "*":
        if is_const(b, 1):
            return a
        if is_const(a, 1):
            return b
        if dtype.is_int and (is_const(a, 0) or is_const(b, 0)):
            return const(0, dtype)
    elif op in ("//", "/"):
        if is_const(b, 1):
            return a
        if dtype.is_int and is_const(a, 0):
            return a
    elif op == "%":
        if dtype.is_int and (is_const(b, 1) or is_const(a, 0)):
            return const(0, dtype)
    elif op in ("<<", ">>", "|", "^"):
        if is_const(b, 0):
            return a
        if op in ("|", "^") and is_const(a, 0):
            return b
    elif op == "&":
        if is_const(a, 0) or is_const(b, 0):
            return const(0, dtype)
    return None


def _as_bool(e: Expr) -> Expr:
    return e if e.dtype.is_bool else binary("!=", e, 0)


def _fold_logic(op, a, b):
    for x, y in ((a, b), (b, a)):
        if isinstance(x, IntImm):
            if op == "and":
                return y if x.value else const(False)
            return const(True) if x.value else y
    return Binary(bool_, op, a, b)


def unary(op: str, a) -> Expr:
    a = convert(a)
    if op == "not":
        a = _as_bool(a)
        if isinstance(a, IntImm):
            return const(not a.value)
        return Unary(bool_, "not", a)
    if isinstance(a, (IntImm, FloatImm)):
        if op == "-":
            return const(-a.value, a.dtype)
        if op == "~":
            return const(~a.value, a.dtype)
    if op == "~" and a.dtype.is_bool:
        return unary("not", a)
    return Unary(a.dtype, op, a)


def select(cond, true_value, false_value) -> Expr:
    cond = _as_bool(convert(cond))
    t, f = _literal_pair(true_value, false_value)
    dtype = promote(t.dtype, f.dtype)
    t, f = cast(t, dtype), cast(f, dtype)
    if isinstance(cond, IntImm):
        return t if cond.value else f
    return Select(dtype, cond, t, f)


# Math intrinsics: name -> (arity, float-only). Result dtype is the (promoted) argument dtype.
MATH_INTRINSICS = {
    "exp": 1, "exp2": 1, "exp10": 1, "log": 1, "log2": 1, "log10": 1, "log1p": 1, "expm1": 1,
    "sqrt": 1, "rsqrt": 1, "sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1, "atan": 1,
    "sinh": 1, "cosh": 1, "tanh": 1, "sigmoid": 1, "erf": 1, "floor": 1, "ceil": 1,
    "round": 1, "trunc": 1, "abs": 1, "pow": 2, "fmod": 2, "atan2": 2, "isnan": 1, "isinf": 1,
}


def call(name: str, *args, dtype=None) -> Expr:
    """A call; math intrinsics get their dtype from the arguments."""
    if name in MATH_INTRINSICS:
        args = [convert(x) for x in args] if len(args) == 1 else list(_literal_pair(*args))
        if len(args) == 2:
            dt = promote(args[0].dtype, args[1].dtype)
            args = [cast(x, dt) for x in args]
        arg_dtype = args[0].dtype
        if name not in ("abs",) and not arg_dtype.is_float:
            arg_dtype = float32
            args = [cast(x, float32) for x in args]
        dtype = bool_ if name in ("isnan", "isinf") else (as_dtype(dtype) if dtype is not None else arg_dtype)
        return Call(dtype, name, tuple(args))
    args = tuple(x if isinstance(x, (Expr, str)) or _is_buffer_like(x) else convert(x) for x in args)
    return Call(as_dtype(dtype) if dtype is not None else int32, name, args)


def _is_buffer_like(x) -> bool:
    return hasattr(x, "memory_scope") or hasattr(x, "region")


# ------------------------------------------------------------------------------ text
# Python precedence, higher binds tighter.
_PREC = {"or": 1, "and": 2, "not": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
         "|": 5, "^": 6, "&": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "//": 10, "%": 10}
_UNARY_PREC = 11


class Namer:
    """Unique printable names for vars and buffers (a repeated name gets a suffix)."""

    def __init__(self):
        self.names: dict = {}
        self.used: set = set()

    def __call__(self, obj) -> str:
        name = self.names.get(id(obj))
        if name is None:
            base = obj.name or "v"
            name, n = base, 1
            while name in self.used:
                name, n = f"{base}_{n}", n + 1
            self.used.add(name)
            self.names[id(obj)] = name
        return name


class ExprPrinter:
    """Expressions, and the buffers and regions calls take, as TileLang text (`repr`).

    Buffers and regions are recognised as `call` accepts them (`_is_buffer_like`): they are
    defined a layer up, in `ir.buffer`, whose nodes print through this class.
    """

    def __init__(self, namer: Namer | None = None):
        self.name = namer or Namer()

    def expr(self, e, parent_prec: int = 0) -> str:
        if isinstance(e, str):
            return repr(e)
        if not isinstance(e, Expr):
            if hasattr(e, "memory_scope"):
                return self.name(e)
            if hasattr(e, "region"):
                return self.region(e)
            return repr(e)
        if isinstance(e, IntImm):
            if e.dtype.is_bool:
                return str(bool(e.value))
            return str(e.value) if e.dtype.name == "int32" else f"T.{e.dtype.name}({e.value})"
        if isinstance(e, FloatImm):
            text = repr(e.value) if e.value == e.value and abs(e.value) != float("inf") else f"float({str(e.value)!r})"
            return text if e.dtype.name == "float32" else f"T.{e.dtype.name}({text})"
        if isinstance(e, StringImm):
            return repr(e.value)
        if isinstance(e, Var):
            return self.name(e)
        if isinstance(e, BufferLoad):
            return f"{self.name(e.buffer)}[{', '.join(self.expr(i) for i in e.indices)}]"
        if isinstance(e, Binary):
            if e.op in ("min", "max"):
                return f"T.{e.op}({self.expr(e.a)}, {self.expr(e.b)})"
            prec = _PREC[e.op]
            text = f"{self.expr(e.a, prec)} {e.op} {self.expr(e.b, prec + 1)}"
            return f"({text})" if prec < parent_prec or (prec == 4 and parent_prec == 4) else text
        if isinstance(e, Unary):
            if e.op == "not":
                text = f"not {self.expr(e.a, _PREC['not'])}"
                return f"({text})" if _PREC["not"] < parent_prec else text
            text = f"{e.op}{self.expr(e.a, _UNARY_PREC)}"
            return f"({text})" if _UNARY_PREC < parent_prec else text
        if isinstance(e, Select):
            return f"T.if_then_else({self.expr(e.cond)}, {self.expr(e.true_value)}, {self.expr(e.false_value)})"
        if isinstance(e, Cast):
            return f"T.cast({self.expr(e.value)}, {e.dtype.name!r})"
        if isinstance(e, Call):
            args = ", ".join(self.expr(a) for a in e.args)
            if e.name in MATH_INTRINSICS:
                return f"T.{e.name}({args})"
            return f"T.call({e.name!r}{', ' if args else ''}{args}) -> {e.dtype.name}" if parent_prec == 0 and e.dtype.name != "int32" \
                else f"T.call({e.name!r}{', ' if args else ''}{args})"
        return repr(e)

    def region(self, r) -> str:
        """`A[m0:e0, m1, ...]` for a BufferRegion (its buffer alone when it covers it all)."""
        buf = r.buffer
        full = all(is_const(rg.min, 0) and _same(rg.extent, s) for rg, s in zip(r.region, buf.shape))
        if full:
            return self.name(buf)
        parts = []
        for rg in r.region:
            if is_const(rg.extent, 1):
                parts.append(self.expr(rg.min))
            else:
                parts.append(f"{self.expr(rg.min)}:{self.expr(end(rg.min, rg.extent))}")
        return f"{self.name(buf)}[{', '.join(parts)}]"


def end(start, length) -> Expr:
    """`start + length` with a constant length added to start's constant term, for printing
    stops (`k * 32 + 96` and 32 give `k * 32 + 128`)."""
    if isinstance(length, IntImm) and isinstance(start, Binary) and start.op == "+" and isinstance(start.b, IntImm):
        return binary("+", start.a, start.b.value + length.value)
    return binary("+", start, length)


def _same(a, b) -> bool:
    if isinstance(a, IntImm) and isinstance(b, IntImm):
        return a.value == b.value
    return a is b
