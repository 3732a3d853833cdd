"""Structural equality and a stable hash of IR, for caches and tests.

`structural_key(node)` is a hashable tuple describing a node; vars and buffers are keyed by
identity. `structural_hash(func)` numbers vars and buffers by first appearance instead, so
two traces of the same program hash alike in any process; it is what the compile cache keys on.
"""
from __future__ import annotations

import dataclasses
import hashlib

from .dtypes import DType
from . import expr as E
from .buffer import Buffer

_FIELDS: dict = {}


def _fields(cls):
    f = _FIELDS.get(cls)
    if f is None:
        f = tuple(x.name for x in dataclasses.fields(cls) if x.compare and x.name != "span")
        _FIELDS[cls] = f
    return f


class _Keyer:
    def __init__(self, positional: bool):
        self.positional = positional
        self.numbers: dict = {}

    def ident(self, obj, kind):
        if not self.positional:
            return (kind, id(obj))
        n = self.numbers.get(id(obj))
        if n is None:
            n = self.numbers[id(obj)] = len(self.numbers)
            return (kind, n, "def", obj.name) + self.declare(obj)
        return (kind, n)

    def declare(self, obj):
        if isinstance(obj, Buffer):
            return (self.key(obj.shape), obj.dtype.name, obj.memory_scope, obj.arrive_counts)
        return (obj.dtype.name,)

    def key(self, node):
        if isinstance(node, E.Var):
            return self.ident(node, "var")
        if isinstance(node, Buffer):
            return self.ident(node, "buffer")
        if isinstance(node, E.IntImm):
            return ("int", node.dtype.name, node.value)
        if isinstance(node, E.FloatImm):
            return ("float", node.dtype.name, repr(node.value))
        if isinstance(node, (tuple, list)):
            return tuple(self.key(x) for x in node)
        if isinstance(node, dict):
            return tuple(sorted((str(k), self.key(v)) for k, v in node.items()))
        if isinstance(node, DType):
            return node.name
        if dataclasses.is_dataclass(node):
            cls = type(node)
            return (cls.__name__,) + tuple(self.key(getattr(node, f)) for f in _fields(cls))
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if hasattr(node, "__tl_key__"):
            return node.__tl_key__()
        return (type(node).__name__, repr(node))


def structural_key(node) -> tuple:
    """A hashable description of `node`; free vars and buffers by identity."""
    return _Keyer(positional=False).key(node)


def structural_equal(a, b) -> bool:
    """True when a and b are the same program up to the identity of vars and buffers."""
    return _Keyer(positional=True).key(a) == _Keyer(positional=True).key(b)


def structural_hash(node) -> str:
    """A stable hex digest of `node` (same in every process and run)."""
    text = repr(_Keyer(positional=True).key(node))
    return hashlib.sha256(text.encode()).hexdigest()
