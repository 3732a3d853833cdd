"""One visitor and one mutator for all IR nodes.

Both dispatch on the node's class name (`visit_For`, `visit_Binary`, ...) and fall back to
a generic walk over the node's dataclass fields, so a pass overrides only what it changes.
Buffers are leaves; a mutator that renames or retypes buffers overrides `visit_buffer`.
"""
from __future__ import annotations

import dataclasses

from .buffer import Buffer, BufferRegion, Range
from .expr import Expr
from .stmt import Stmt

_CHILD_FIELDS: dict = {}


def _child_fields(cls):
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in ("span", "dtype", "annotations"))
        _CHILD_FIELDS[cls] = names
    return names


def _is_node(x) -> bool:
    return isinstance(x, (Expr, Stmt, BufferRegion, Range))


class _Dispatching:
    """`visit(node)` calls `visit_<NodeClass>` if the subclass defines it, else `generic_visit`;
    the choice is cached per (subclass, node class)."""

    _dispatch: dict

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls._dispatch = {}

    def visit(self, node):
        if node is None:
            return None
        cls = type(node)
        table = type(self).__dict__.get("_dispatch")
        if table is None:
            table = type(self)._dispatch = {}
        method = table.get(cls)
        if method is None:
            method = table[cls] = getattr(type(self), "visit_" + cls.__name__, None) or type(self).generic_visit
        return method(self, node)


class Visitor(_Dispatching):
    """Read-only walk. Override `visit_<Node>`; call `self.generic_visit(node)` to recurse."""

    def generic_visit(self, node):
        if isinstance(node, (tuple, list)):
            for x in node:
                self.visit(x)
            return None
        if isinstance(node, Buffer):
            return self.visit_buffer(node)
        if not dataclasses.is_dataclass(node):
            return None
        for name in _child_fields(type(node)):
            value = getattr(node, name)
            if _is_node(value) or isinstance(value, (tuple, list, Buffer)):
                self.visit(value)
        return None

    def visit_buffer(self, buffer: Buffer):
        return None


class Mutator(_Dispatching):
    """Rebuilding walk. `visit_<Node>` returns the replacement; unchanged subtrees are shared."""

    def generic_visit(self, node):
        if isinstance(node, tuple):
            new = tuple(self.visit(x) for x in node)
            return node if all(a is b for a, b in zip(new, node)) else new
        if isinstance(node, list):
            return [self.visit(x) for x in node]
        if isinstance(node, Buffer):
            return self.visit_buffer(node)
        if not dataclasses.is_dataclass(node):
            return node
        changes = {}
        for name in _child_fields(type(node)):
            value = getattr(node, name)
            if _is_node(value) or isinstance(value, (tuple, list, Buffer)):
                new = self.visit(value)
                if new is not value:
                    changes[name] = new
        if not changes:
            return node
        return dataclasses.replace(node, **changes)

    def visit_buffer(self, buffer: Buffer):
        return buffer


class _Substitute(Mutator):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Var(self, var):
        return self.mapping.get(var, var)


def substitute(node, mapping: dict):
    """Replace vars by expressions (keys are Var objects, matched by identity)."""
    if not mapping:
        return node
    return _Substitute(mapping).visit(node)


class _Collect(Visitor):
    def __init__(self, pred):
        self.pred = pred
        self.found = []

    def generic_visit(self, node):
        if self.pred(node):
            self.found.append(node)
        return super().generic_visit(node)


def collect(node, pred) -> list:
    """Every node under `node` (inclusive) for which pred(node) holds, in walk order."""
    c = _Collect(pred)
    c.visit(node)
    return c.found
