"""The tracing state: where T.* calls put the statements they build.

The frontend opens a Builder while it traces a kernel; language functions append to the
innermost statement list and read the enclosing kernel frame (for allocations and thread
bindings). Outside tracing there is no builder, and T.* functions that need one say so.
"""
from __future__ import annotations

import dataclasses
import math
import threading

from ..errors import Span, TileLangError
from . import expr as E
from . import stmt as S


@dataclasses.dataclass
class KernelFrame:
    grid: tuple
    threads: tuple
    block_vars: tuple
    thread_vars: tuple
    allocations: list = dataclasses.field(default_factory=list)
    annotations: dict = dataclasses.field(default_factory=dict)
    warp_groups: tuple | None = None  # inside `with T.ws(...)`

    @property
    def num_threads(self) -> int:
        return math.prod(self.threads)


class Builder:
    """Statement lists (innermost last), kernel frames, and the current user span."""

    def __init__(self):
        self.blocks: list = [[]]
        self.kernels: list = []
        self.span: Span | None = None
        self.name_hint: str | None = None  # the variable the current assignment binds
        self.with_names: tuple = ()  # the `as` targets of the current `with`
        self.params: dict = {}  # eager style: name -> buffer declared by an annotation
        self.outputs: list = []  # eager style: buffers made by T.empty
        self.const_vars: list = []  # eager style: vars made by T.const
        self.const_values: dict = {}  # eager style: name -> int, when the sizes are known

    # -- context management ----------------------------------------------------------
    def __enter__(self) -> "Builder":
        _stack().append(self)
        return self

    def __exit__(self, *exc) -> None:
        _stack().pop()

    # -- statements ------------------------------------------------------------------
    def emit(self, stmt: S.Stmt) -> None:
        if stmt.span is None and self.span is not None:
            stmt = dataclasses.replace(stmt, span=self.span)
        self.blocks[-1].append(stmt)

    def store(self, buffer, indices, value) -> None:
        value = E.cast(E.convert(value), buffer.dtype)
        self.emit(S.BufferStore(buffer, tuple(indices), value))

    def push(self) -> None:
        self.blocks.append([])

    def pop(self) -> S.Stmt:
        return S.seq(self.blocks.pop())

    def take_name(self, default: str) -> str:
        """The name of the variable being assigned (once), else `default`."""
        name, self.name_hint = self.name_hint, None
        return name or default

    # -- kernels ---------------------------------------------------------------------
    def kernel(self, what: str) -> KernelFrame:
        if not self.kernels:
            raise TileLangError(f"{what} must be inside a `with T.Kernel(...)` block")
        return self.kernels[-1]


_local = threading.local()


def _stack() -> list:
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = []
    return s


def maybe_current() -> Builder | None:
    s = _stack()
    return s[-1] if s else None


def current_builder(what: str) -> Builder:
    b = maybe_current()
    if b is None:
        raise TileLangError(f"{what} is only possible inside a kernel being traced (@T.prim_func or @tilelang.jit)")
    return b
