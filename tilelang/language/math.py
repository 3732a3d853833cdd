"""Scalar math on device values (and on Python numbers, folded at trace time)."""
from __future__ import annotations

import builtins

from ..errors import TileLangTypeError
from ..ir import expr as E
from ..ir import intrinsics as I
from ..ir.dtypes import as_dtype
from ..ir import stmt as S
from ..ir.builder import current_builder

__all__ = ["ceildiv", "floordiv", "floormod", "truncdiv", "truncmod", "max", "min", "abs", "clamp",
           "if_then_else", "infinity", "cast", "exp", "exp2", "exp10", "log", "log2", "log10", "log1p", "expm1",
           "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid", "erf", "floor", "ceil",
           "round", "trunc", "pow", "fmod", "isnan", "isinf", "And", "Or", "Not", "max_value", "min_value",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "shift_left", "shift_right", "call_extern",
           "Select", "Cast", "evaluate"]


def _all_python(*xs) -> bool:
    return all(isinstance(x, (int, float)) for x in xs)


def ceildiv(a, b):
    """Integer division rounding up; Python ints stay Python ints."""
    if _all_python(a, b) and isinstance(a, int) and isinstance(b, int):
        return -(-a // b)
    return (E.convert(a) + b - 1) // b


def floordiv(a, b):
    """Integer division rounding toward minus infinity (Python's `//`)."""
    return a // b if _all_python(a, b) else E.binary("//", a, b)


def floormod(a, b):
    """Remainder of floordiv: the result has the sign of the divisor (Python's `%`)."""
    return a % b if _all_python(a, b) else E.binary("%", a, b)


def truncdiv(a, b):
    """Integer division rounding toward zero (C's `/`)."""
    if _all_python(a, b):
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b > 0) else -q
    return E.binary("/", a, b)


def truncmod(a, b):
    """Remainder of truncdiv: the result has the sign of the dividend (C's `%`)."""
    return a - truncdiv(a, b) * b


def max(*args):
    """Maximum of two or more values."""
    if len(args) < 2:
        raise TileLangTypeError("T.max needs at least two values")
    out = args[0]
    for x in args[1:]:
        out = builtins.max(out, x) if _all_python(out, x) else E.binary("max", out, x)
    return out


def min(*args):
    """Minimum of two or more values."""
    if len(args) < 2:
        raise TileLangTypeError("T.min needs at least two values")
    out = args[0]
    for x in args[1:]:
        out = builtins.min(out, x) if _all_python(out, x) else E.binary("min", out, x)
    return out


def abs(x):
    """Absolute value of a device expression."""
    return builtins.abs(x) if _all_python(x) else E.call(I.MATH["abs"].name, x)


def clamp(x, lo, hi):
    """`x` limited to the range [lo, hi]."""
    return min(max(x, lo), hi)


def if_then_else(cond, true_value, false_value):
    """`true_value if cond else false_value` evaluated on the device (both sides computed)."""
    return E.select(cond, true_value, false_value)


Select = if_then_else


def infinity(dtype):
    """+inf of a float dtype."""
    d = as_dtype(dtype)
    if not d.is_float:
        raise TileLangTypeError(f"T.infinity needs a float dtype, got {d}")
    return E.const(float("inf"), d)


def max_value(dtype):
    """The largest finite value of `dtype`."""
    d = as_dtype(dtype)
    return E.const(d.max_value(), d)


def min_value(dtype):
    """The smallest finite value of `dtype` (most negative)."""
    d = as_dtype(dtype)
    return E.const(d.min_value(), d)


def cast(value, dtype):
    """Convert value to dtype (T.cast(x, "float32"))."""
    return E.cast(value, dtype)


def Cast(dtype, value):
    """Convert `value` to `dtype` (same as T.cast(value, dtype), with the arguments swapped)."""
    return E.cast(value, dtype)


def _math(name):
    intrinsic = I.MATH[name]

    def fn(*args):
        return E.call(intrinsic.name, *args)

    fn.__name__ = name
    fn.__doc__ = f"Element-wise `{name}` on a device value."
    return fn


exp, exp2, exp10, log, log2, log10 = (_math(n) for n in ("exp", "exp2", "exp10", "log", "log2", "log10"))
log1p, expm1, sqrt, rsqrt = (_math(n) for n in ("log1p", "expm1", "sqrt", "rsqrt"))
sin, cos, tan, tanh, sinh, cosh = (_math(n) for n in ("sin", "cos", "tan", "tanh", "sinh", "cosh"))
sigmoid, erf, floor, ceil, round, trunc = (_math(n) for n in ("sigmoid", "erf", "floor", "ceil", "round", "trunc"))
pow, fmod, isnan, isinf = (_math(n) for n in ("pow", "fmod", "isnan", "isinf"))


def And(*args):
    """Logical and of device boolean expressions."""
    out = args[0]
    for x in args[1:]:
        out = E.binary("and", out, x)
    return out


def Or(*args):
    """Logical or of device boolean expressions."""
    out = args[0]
    for x in args[1:]:
        out = E.binary("or", out, x)
    return out


def Not(x):
    """Logical negation of a device boolean expression."""
    return E.unary("not", x)


def bitwise_and(a, b):
    """Bitwise and of integer expressions (`a & b`)."""
    return E.binary("&", a, b)


def bitwise_or(a, b):
    """Bitwise or of integer expressions (`a | b`)."""
    return E.binary("|", a, b)


def bitwise_xor(a, b):
    """Bitwise exclusive or of integer expressions (`a ^ b`)."""
    return E.binary("^", a, b)


def bitwise_not(a):
    """Bitwise complement of an integer expression (`~a`)."""
    return E.unary("~", a)


def shift_left(a, b):
    """Left shift of an integer expression (`a << b`)."""
    return E.binary("<<", a, b)


def shift_right(a, b):
    """Right shift (arithmetic for signed types) (`a >> b`)."""
    return E.binary(">>", a, b)


def call_extern(dtype, name, *args):
    """A call of a device function by name (CUDA backend only)."""
    return I.EXTERN(E.StringImm(as_dtype("handle"), name), *args, dtype=dtype)


def evaluate(value):
    """Evaluate an expression for its side effect (an intrinsic call) as a statement."""

    current_builder("T.evaluate").emit(S.Evaluate(E.convert(value)))
