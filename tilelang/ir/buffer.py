"""Buffers (named, typed, scoped n-d arrays) and regions of them.

Indexing a buffer with scalars gives a `BufferLoad`; with any slice, a `BufferRegion` whose
extents are `stop - start` as the expression builder folds them (the language layer, which
can simplify, normalises the regions tile ops take).
A `local.var` buffer (T.alloc_var) also behaves as the scalar it holds: it loads wherever an
expression is expected.
"""
from __future__ import annotations

import dataclasses

from ..errors import Span, TileLangTypeError, TileLangValueError
from . import expr as E
from .builder import current_builder
from .dtypes import DType
from .scope import Scope, as_scope

_node = dataclasses.dataclass(frozen=True, eq=False, slots=True, repr=False)

SCOPES = tuple(Scope)


@_node
class Range:
    """`[min, min + extent)` along one dimension."""

    min: E.Expr
    extent: E.Expr

    def __repr__(self) -> str:
        return f"Range({self.min!r}, {self.extent!r})"


@_node
class BufferRegion:
    """A box of a buffer: one Range per dimension."""

    buffer: "Buffer"
    region: tuple

    @property
    def extents(self) -> tuple:
        return tuple(r.extent for r in self.region)

    @property
    def mins(self) -> tuple:
        return tuple(r.min for r in self.region)

    @property
    def dtype(self) -> DType:
        return self.buffer.dtype

    def __repr__(self) -> str:
        return E.ExprPrinter().region(self)

    @staticmethod
    def full(buffer: "Buffer") -> "BufferRegion":
        return BufferRegion(buffer, tuple(Range(E.const(0), s) for s in buffer.shape))


class _ScalarOps:
    """Arithmetic that loads the scalar a `local.var` buffer holds (rule 4 of DESIGN.md)."""

    __slots__ = ()

    def __add__(self, o): return self._scalar() + o
    def __radd__(self, o): return o + self._scalar()
    def __sub__(self, o): return self._scalar() - o
    def __rsub__(self, o): return o - self._scalar()
    def __mul__(self, o): return self._scalar() * o
    def __rmul__(self, o): return o * self._scalar()
    def __truediv__(self, o): return self._scalar() / o
    def __rtruediv__(self, o): return o / self._scalar()
    def __floordiv__(self, o): return self._scalar() // o
    def __rfloordiv__(self, o): return o // self._scalar()
    def __mod__(self, o): return self._scalar() % o
    def __rmod__(self, o): return o % self._scalar()
    def __neg__(self): return -self._scalar()
    def __and__(self, o): return self._scalar() & o
    def __rand__(self, o): return o & self._scalar()
    def __or__(self, o): return self._scalar() | o
    def __ror__(self, o): return o | self._scalar()
    def __xor__(self, o): return self._scalar() ^ o
    def __rxor__(self, o): return o ^ self._scalar()
    def __lshift__(self, o): return self._scalar() << o
    def __rshift__(self, o): return self._scalar() >> o
    def __lt__(self, o): return self._scalar() < o
    def __le__(self, o): return self._scalar() <= o
    def __gt__(self, o): return self._scalar() > o
    def __ge__(self, o): return self._scalar() >= o

    def __eq__(self, o):
        return self._scalar() == o if self._is_var() else self is o

    def __ne__(self, o):
        return self._scalar() != o if self._is_var() else self is not o

    __hash__ = object.__hash__


@_node
class Buffer(_ScalarOps):
    """A typed n-d array in a memory scope (a Scope; strings are normalised to one)."""

    name: str
    shape: tuple
    dtype: DType
    memory_scope: Scope
    span: Span | None = dataclasses.field(default=None, kw_only=True)
    arrive_counts: tuple | None = dataclasses.field(default=None, kw_only=True)  # shared.barrier only

    def __post_init__(self):
        if not isinstance(self.memory_scope, Scope):
            try:
                object.__setattr__(self, "memory_scope", as_scope(self.memory_scope))
            except ValueError as err:
                raise TileLangValueError(f"buffer {self.name}: {err}") from None

    def scope(self) -> Scope:
        return self.memory_scope

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def static_shape(self) -> tuple:
        """The shape as Python ints; raises if a dimension is symbolic."""
        dims = []
        for s in self.shape:
            if not isinstance(s, E.IntImm):
                raise TileLangValueError(f"buffer {self.name} has a symbolic dimension {s!r} here")
            dims.append(s.value)
        return tuple(dims)

    def numel(self) -> int:
        n = 1
        for s in self.static_shape():
            n *= s
        return n

    def _is_var(self) -> bool:
        return self.memory_scope == Scope.VAR

    def _scalar(self) -> E.Expr:
        if not self._is_var():
            raise TileLangTypeError(
                f"`{self.name}` is a {self.memory_scope} buffer of shape {tuple(self.shape)}, not a scalar; index it")
        return E.BufferLoad(self.dtype, self, (E.const(0),))

    def __tl_expr__(self) -> E.Expr:
        return self._scalar()

    def __repr__(self) -> str:
        return f"Buffer({self.name}, {tuple(self.shape)}, {self.dtype}, {self.memory_scope!r})"

    def __bool__(self):
        raise TileLangTypeError(f"buffer `{self.name}` has no Python truth value")

    # -- indexing -----------------------------------------------------------------
    def __getitem__(self, key):
        keys = _expand_key(key, self.ndim, self.name)
        if len(keys) == self.ndim and not any(isinstance(k, slice) for k in keys):
            return self.load(keys)
        region = []
        for dim, k in enumerate(keys):
            region.append(_slice_range(k, self.shape[dim], self.name, dim))
        for dim in range(len(keys), self.ndim):
            region.append(Range(E.const(0), self.shape[dim]))
        return BufferRegion(self, tuple(region))

    def load(self, indices) -> E.BufferLoad:
        indices = tuple(_as_index(i, self.name) for i in indices)
        if len(indices) != self.ndim:
            raise TileLangValueError(f"{self.name} has {self.ndim} dimensions but {len(indices)} indices were given")
        _check_const_bounds(self, indices)
        return E.BufferLoad(self.dtype, self, indices)

    def __setitem__(self, key, value):
        keys = _expand_key(key, self.ndim, self.name)
        if any(isinstance(k, slice) for k in keys) or len(keys) != self.ndim:
            raise TileLangValueError(
                f"assignment to a region of {self.name} is not supported; write element-wise in a "
                "T.Parallel loop, or use T.fill / T.copy")
        current_builder("storing to a buffer").store(self, self.load(keys).indices, value)


def _expand_key(key, ndim: int, name: str) -> tuple:
    keys = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in keys):
        i = next(n for n, k in enumerate(keys) if k is Ellipsis)
        fill = ndim - (len(keys) - 1)
        keys = keys[:i] + (slice(None),) * fill + keys[i + 1:]
    if len(keys) > ndim:
        raise TileLangValueError(f"{name} has {ndim} dimensions but is indexed with {len(keys)}")
    return keys


def _as_index(i, name: str) -> E.Expr:
    if isinstance(i, float):
        raise TileLangTypeError(f"index of {name} must be an integer, got {i!r}")
    e = E.convert(i)
    if not (e.dtype.is_int or e.dtype.is_bool):
        raise TileLangTypeError(f"index of {name} must be an integer expression, got {e.dtype} `{e!r}`")
    return e


def _slice_range(k, dim_extent, name: str, dim: int) -> Range:
    if not isinstance(k, slice):
        return Range(_as_index(k, name), E.const(1))
    if k.step not in (None, 1) and not E.is_const(E.convert(k.step), 1):
        raise TileLangValueError(f"slices of {name} must have step 1, got {k.step!r}")
    start = E.const(0) if k.start is None else _as_index(k.start, name)
    stop = dim_extent if k.stop is None else _as_index(k.stop, name)
    return Range(start, stop - start)


def _check_const_bounds(buffer: Buffer, indices) -> None:
    if buffer.memory_scope == Scope.GLOBAL:
        return  # global accesses are guarded by the program itself
    for dim, (i, s) in enumerate(zip(indices, buffer.shape)):
        if isinstance(i, E.IntImm) and isinstance(s, E.IntImm) and not 0 <= i.value < s.value:
            raise TileLangValueError(
                f"index {i.value} is out of bounds for dimension {dim} of {buffer.name} (extent {s.value})")
