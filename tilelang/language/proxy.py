"""Parameter annotations and symbolic sizes: T.Tensor, T.Buffer, T.dynamic, T.const, T.empty."""
from __future__ import annotations

import dataclasses

from ..errors import TileLangTypeError, TileLangValueError
from ..ir import expr as E
from ..ir.buffer import Buffer as IRBuffer
from ..ir.builder import current_builder
from ..ir.dtypes import as_dtype
from ..frontend.specs import TensorAnnotation

__all__ = ["Tensor", "Buffer", "StridedTensor", "dynamic", "symbolic", "const", "empty", "TensorAnnotation"]


def _annotation(shape, dtype="float32", strides=None) -> TensorAnnotation:
    if isinstance(shape, (int, E.Expr)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TileLangTypeError(f"T.Tensor: shape must be a tuple of extents, got {shape!r}")
    dims = []
    for s in shape:
        if isinstance(s, bool) or isinstance(s, float) or not isinstance(s, (int, E.Expr)):
            raise TileLangTypeError(f"T.Tensor: extents must be ints or symbolic sizes, got {s!r}")
        e = E.convert(s)
        if isinstance(e, E.IntImm) and e.value < 0:
            raise TileLangValueError(f"T.Tensor: extents must be non-negative, got {e.value}")
        dims.append(e)
    try:
        dt = as_dtype(dtype)
    except ValueError as e:
        raise TileLangTypeError(f"T.Tensor: {e}") from None
    return TensorAnnotation(tuple(dims), dt, tuple(strides) if strides is not None else None)


class _TensorProxy:
    """Both `T.Tensor((M, N), "float16")` and `T.Tensor[(M, N), "float16"]`."""

    def __call__(self, shape, dtype="float32", data=None, strides=None, scope="global", **_):
        return _annotation(shape, dtype, strides)

    def __getitem__(self, key):
        if not isinstance(key, tuple) or len(key) != 2:
            raise TileLangTypeError("T.Tensor[...] takes a shape and a dtype: T.Tensor[(M, N), 'float16']")
        return _annotation(*key)


class _StridedTensorProxy:
    """A tensor parameter with explicit strides (in elements): T.StridedTensor(shape, strides, dtype)."""
    def __call__(self, shape, strides, dtype="float32", **_):
        return _annotation(shape, dtype, strides)

    def __getitem__(self, key):
        return _annotation(key[0], key[2] if len(key) > 2 else "float32", key[1])


Tensor = _TensorProxy()
Buffer = _TensorProxy()  # noqa: F811  (T.Buffer as a parameter annotation)
StridedTensor = _StridedTensorProxy()


def dynamic(name: str, dtype="int32"):
    """A symbolic size bound from the tensors' shapes at call time (one compiled kernel serves all)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise TileLangValueError(f"T.dynamic needs a name, got {name!r}")
    return E.Var(as_dtype(dtype), name)


symbolic = dynamic


def const(names: str, dtype="int32"):
    """Eager style: sizes taken from the tensors a kernel is called with, compiled as constants.

    `M, N = T.const("M, N")`; each distinct set of values compiles once.
    """
    builder = current_builder("T.const")
    parts = [p.strip() for p in names.replace(",", " ").split()]
    if not parts or not all(p.isidentifier() for p in parts):
        raise TileLangValueError(f"T.const takes names separated by commas, got {names!r}")
    values = []
    for p in parts:
        known = builder.const_values.get(p)
        if known is not None:
            values.append(known)
            continue
        v = E.Var(as_dtype(dtype), p)
        builder.const_vars.append(v)
        values.append(v)
    return values[0] if len(values) == 1 else tuple(values)


def empty(shape, dtype="float32"):
    """Eager style: an output tensor the kernel allocates and returns."""
    builder = current_builder("T.empty")
    ann = _annotation(shape, dtype)
    buf = ann.make_buffer(builder.take_name(f"out{len(builder.outputs)}"), builder.span)
    builder.outputs.append(buf)
    return buf

