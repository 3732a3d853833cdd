"""Device intrinsics as values: one `Intrinsic` per operation a lowered kernel can call.

A call in the IR is `Call(dtype, intrinsic.name, args)`; passes and the CPU backend ask
`lookup(call)` for its Intrinsic and match on it (identity, or its effects), never on a
spelling. Names are target-neutral (`cp_async_wait`, `block_barrier`); the C++ spelling of
each lives only in the CUDA backend (backend/cuda/intrinsics.py). Integer template
parameters are ordinary IntImm arguments (`cp_async_wait(1)`), listed in `template_args`
so codegen knows which to print between angle brackets.

A backend registers intrinsics of its own lowering (e.g. a tensor-core GEMM step) with
`register`; the registry rejects a second definition under the same name.
"""
from __future__ import annotations

import dataclasses
import enum

from . import expr as E
from .buffer import Buffer
from .dtypes import int32
from .stmt import Evaluate


class Effect(enum.Flag):
    """What a call does besides computing its value (passes schedule and synchronise by these)."""
    NONE = 0
    READS_MEMORY = enum.auto()     # reads shared / global memory through its pointer arguments
    WRITES_MEMORY = enum.auto()    # writes shared / global memory through its pointer arguments
    BLOCK_BARRIER = enum.auto()    # every thread of the block (or of a named group) waits here
    WARP_SYNC = enum.auto()        # the threads of a warp exchange values or wait for each other
    ASYNC_ISSUE = enum.auto()      # starts an asynchronous copy whose data lands later
    ASYNC_COMMIT = enum.auto()     # closes a group of asynchronous copies
    ASYNC_WAIT = enum.auto()       # waits until at most N groups of this thread are in flight
    MBARRIER = enum.auto()         # arrives at, waits on or initialises an mbarrier
    FENCE = enum.auto()            # orders memory operations (proxy / barrier-init fences)
    OUTPUT = enum.auto()           # visible output (printf, assert)
    REGISTERS = enum.auto()        # changes the thread's register budget


@dataclasses.dataclass(frozen=True)
class Intrinsic:
    name: str
    effects: Effect = Effect.NONE
    template_args: int = 0          # how many leading arguments are compile-time template parameters
    doc: str = ""

    def __call__(self, *args, dtype=int32) -> E.Call:
        """A call of this intrinsic (plain ints become IntImm)."""
        conv = tuple(a if isinstance(a, (E.Expr, Buffer, str)) else E.convert(a) for a in args)
        return E.Call(dtype, self.name, conv)

    def stmt(self, *args, dtype=int32, span=None):
        """`Evaluate` of a call of this intrinsic."""
        return Evaluate(self(*args, dtype=dtype), span=span)

    def matches(self, node) -> bool:
        """Whether `node` (an Expr, or an Evaluate statement) is a call of this intrinsic."""
        return lookup(node) is self

    @property
    def is_barrier(self) -> bool:
        return bool(self.effects & Effect.BLOCK_BARRIER)


_REGISTRY: dict[str, Intrinsic] = {}


def register(intrinsic: Intrinsic) -> Intrinsic:
    """Add an intrinsic to the registry; its name must be new."""
    if intrinsic.name in _REGISTRY and _REGISTRY[intrinsic.name] != intrinsic:
        raise ValueError(f"intrinsic {intrinsic.name!r} is already defined")
    _REGISTRY[intrinsic.name] = intrinsic
    return intrinsic


def lookup(node) -> Intrinsic | None:
    """The Intrinsic a Call (or `Evaluate(Call)`) invokes, None for anything else."""
    value = getattr(node, "value", None) if not isinstance(node, E.Call) else node
    if not isinstance(value, E.Call):
        return None
    return _REGISTRY.get(value.name)


def registered() -> dict[str, Intrinsic]:
    """Every intrinsic by name (tests, docs)."""
    return dict(_REGISTRY)


def _define(name: str, effects: Effect = Effect.NONE, template_args: int = 0, doc: str = "") -> Intrinsic:
    return register(Intrinsic(name, effects, template_args, doc))


# -- synchronisation -----------------------------------------------------------------------------
BLOCK_BARRIER = _define("sync_threads", Effect.BLOCK_BARRIER, doc="every thread of the block waits")
NAMED_BARRIER = _define("named_barrier_sync", Effect.BLOCK_BARRIER,
                        doc="(id, threads): the threads of one named barrier wait")
WARP_BARRIER = _define("sync_warp", Effect.WARP_SYNC, doc="the threads of a warp wait")

# -- asynchronous global -> shared copies ----------------------------------------------------------
ASYNC_COPY = _define("cp_async", Effect.ASYNC_ISSUE | Effect.READS_MEMORY | Effect.WRITES_MEMORY, template_args=1,
                     doc="(bytes, dst, src): copy bytes (4, 8, 16) asynchronously")
ASYNC_COPY_ZFILL = _define("cp_async_zfill", Effect.ASYNC_ISSUE | Effect.READS_MEMORY | Effect.WRITES_MEMORY,
                           template_args=1, doc="(bytes, dst, src, valid): as cp_async, zeros when not valid")
ASYNC_COMMIT = _define("cp_async_commit", Effect.ASYNC_COMMIT, doc="close this thread's group of async copies")
ASYNC_WAIT = _define("cp_async_wait", Effect.ASYNC_WAIT, template_args=1,
                     doc="(n): wait until at most n groups of this thread are in flight")
