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
from .dtypes import as_dtype, int32
from .stmt import Evaluate


class Effect(enum.Flag):
    """What a call does besides computing its value (passes schedule and synchronise by these)."""
    NONE = 0
    READS_MEMORY = enum.auto()     # reads shared / global memory through its pointer arguments
    WRITES_MEMORY = enum.auto()    # writes shared / global memory through its pointer arguments
    BLOCK_BARRIER = enum.auto()    # every thread of the block waits here
    GROUP_BARRIER = enum.auto()    # the threads of one named group (a T.ws warp group) wait here
    WARP_SYNC = enum.auto()        # the threads of a warp exchange values or wait for each other
    ASYNC_ISSUE = enum.auto()      # starts an asynchronous copy whose data lands later
    ASYNC_COMMIT = enum.auto()     # closes a group of asynchronous copies
    ASYNC_WAIT = enum.auto()       # waits until at most N groups of this thread are in flight
    MBARRIER = enum.auto()         # arrives at, waits on or initialises an mbarrier
    FENCE = enum.auto()            # orders memory operations (proxy / barrier-init fences)
    OUTPUT = enum.auto()           # visible output (printf, assert)
    REGISTERS = enum.auto()        # changes the thread's register budget
    WARPGROUP = enum.auto()        # orders the warp group's asynchronous MMA operations
# READS_MEMORY / WRITES_MEMORY: the first address argument after the template arguments is the
# one written (the destination); every other address argument is read.


@dataclasses.dataclass(frozen=True)
class Intrinsic:
    name: str
    effects: Effect = Effect.NONE
    template_args: int = 0          # how many leading arguments are compile-time template parameters
    doc: str = ""

    def __call__(self, *args, dtype=int32) -> E.Call:
        """A call of this intrinsic (plain ints become IntImm)."""
        conv = tuple(a if isinstance(a, (E.Expr, Buffer, str)) else E.convert(a) for a in args)
        return E.Call(as_dtype(dtype), self.name, conv)

    def stmt(self, *args, dtype=int32, span=None):
        """`Evaluate` of a call of this intrinsic."""
        return Evaluate(self(*args, dtype=dtype), span=span)

    def matches(self, node) -> bool:
        """Whether `node` (an Expr, or an Evaluate statement) is a call of this intrinsic."""
        return lookup(node) is self

    @property
    def is_barrier(self) -> bool:
        return bool(self.effects & Effect.BLOCK_BARRIER)

    @property
    def is_async(self) -> bool:
        return bool(self.effects & Effect.ASYNC_ISSUE)


_REGISTRY: dict[str, Intrinsic] = {}


def register(intrinsic: Intrinsic) -> Intrinsic:
    """Add an intrinsic to the registry; its name must be new."""
    if intrinsic.name in _REGISTRY and _REGISTRY[intrinsic.name] != intrinsic:
        raise ValueError(f"intrinsic {intrinsic.name!r} is already defined")
    _REGISTRY[intrinsic.name] = intrinsic
    return intrinsic


def lookup(node) -> Intrinsic | None:
    """The Intrinsic a Call (or `Evaluate(Call)`) invokes, None for anything else."""
    value = node.value if isinstance(node, Evaluate) else node
    if not isinstance(value, E.Call):
        return None
    return _REGISTRY.get(value.name)


def registered() -> dict[str, Intrinsic]:
    """Every intrinsic by name (tests, docs)."""
    return dict(_REGISTRY)


def _define(name: str, effects: Effect = Effect.NONE, template_args: int = 0, doc: str = "") -> Intrinsic:
    return register(Intrinsic(name, effects, template_args, doc))


_MEM = Effect.READS_MEMORY | Effect.WRITES_MEMORY

# -- synchronisation -----------------------------------------------------------------------------
BLOCK_BARRIER = _define("sync_threads", Effect.BLOCK_BARRIER, doc="every thread of the block waits")
NAMED_BARRIER = _define("named_barrier_sync", Effect.GROUP_BARRIER,
                        doc="(id, threads): the threads of one named barrier wait")
WARP_BARRIER = _define("sync_warp", Effect.WARP_SYNC, doc="the threads of a warp wait")
GRID_BARRIER = _define("sync_grid", Effect.BLOCK_BARRIER, doc="every block of the grid waits (cooperative launch)")

# -- mbarriers: the first argument is the barrier element (a BufferLoad of a shared.barrier buffer)
MBARRIER_INIT = _define("mbarrier_init", Effect.MBARRIER, doc="(bar, count): set the arrivals a phase needs")
MBARRIER_ARRIVE = _define("mbarrier_arrive", Effect.MBARRIER, doc="(bar): one arrival")
MBARRIER_WAIT_PARITY = _define("mbarrier_wait_parity", Effect.MBARRIER,
                               doc="(bar, parity): wait until the phase of that parity completed")
MBARRIER_EXPECT_TX = _define("mbarrier_expect_tx", Effect.MBARRIER,
                             doc="(bar, bytes): bytes async copies must deliver before the phase completes")
MBARRIER_ARRIVE_EXPECT_TX = _define("mbarrier_arrive_expect_tx", Effect.MBARRIER,
                                    doc="(bar, bytes): arrive and expect bytes")

# -- fences ----------------------------------------------------------------------------------------
FENCE_PROXY_ASYNC = _define("fence_proxy_async", Effect.FENCE,
                            doc="order generic-proxy shared writes before async-proxy reads")
FENCE_MBARRIER_INIT = _define("fence_mbarrier_init", Effect.FENCE,
                              doc="make mbarrier initialisation visible to the async proxy and the cluster")

# -- warp shuffles: (value, lane argument[, width]) -> the value another lane holds -------------------
SHFL_XOR = _define("shfl_xor", Effect.WARP_SYNC, doc="the value of lane (lane ^ mask)")
SHFL_DOWN = _define("shfl_down", Effect.WARP_SYNC, doc="the value of lane (lane + delta)")
SHFL_UP = _define("shfl_up", Effect.WARP_SYNC, doc="the value of lane (lane - delta)")
SHFL_SYNC = _define("shfl_sync", Effect.WARP_SYNC, doc="the value of lane src_lane")
SHUFFLES = (SHFL_XOR, SHFL_DOWN, SHFL_UP, SHFL_SYNC)

# -- warp-group MMA ordering and registers (Hopper) ------------------------------------------------
WARPGROUP_ARRIVE = _define("warpgroup_arrive", Effect.WARPGROUP, doc="fence before wgmma reads registers")
WARPGROUP_COMMIT = _define("warpgroup_commit_batch", Effect.WARPGROUP, doc="close the current batch of wgmma")
WARPGROUP_WAIT = _define("warpgroup_wait", Effect.WARPGROUP, template_args=1,
                         doc="(n): wait until at most n wgmma batches are in flight")
SET_MAX_NREG = _define("set_max_nreg", Effect.REGISTERS,
                       doc="(count, is_inc): the language's form, lowered to setmaxnreg_inc / _dec")
SET_MAX_NREG_INC = _define("setmaxnreg_inc", Effect.REGISTERS, template_args=1,
                           doc="(count): raise the warp group's register budget")
SET_MAX_NREG_DEC = _define("setmaxnreg_dec", Effect.REGISTERS, template_args=1,
                           doc="(count): lower the warp group's register budget")

# -- asynchronous global -> shared copies ----------------------------------------------------------
ASYNC_COPY = _define("cp_async", Effect.ASYNC_ISSUE | _MEM, template_args=1,
                     doc="(bytes, dst, src): copy bytes (4, 8, 16) asynchronously")
ASYNC_COPY_ZFILL = _define("cp_async_zfill", Effect.ASYNC_ISSUE | _MEM,
                           template_args=1, doc="(bytes, dst, src, valid): as cp_async, zeros when not valid")
ASYNC_COMMIT = _define("cp_async_commit", Effect.ASYNC_COMMIT, doc="close this thread's group of async copies")
ASYNC_WAIT = _define("cp_async_wait", Effect.ASYNC_WAIT, template_args=1,
                     doc="(n): wait until at most n groups of this thread are in flight")

# -- tensor memory accelerator (the number of coordinates gives the dimensions) ---------------------
TMA_LOAD = _define("tma_load", Effect.ASYNC_ISSUE | _MEM | Effect.MBARRIER,
                   doc="(&dst, &descriptor, &bar, *coords): one box from global to shared, completing on bar")
TMA_STORE = _define("tma_store", Effect.ASYNC_ISSUE | _MEM,
                    doc="(&descriptor, &src, *coords): one box from shared to global")
TMA_STORE_WAIT = _define("tma_store_wait", Effect.ASYNC_WAIT,
                         doc="wait until this thread's TMA stores have read shared memory")

# -- atomics: (&dst, value) -> dst op= value -------------------------------------------------------
ATOMICS = {op: _define(f"atomic_{op}", _MEM, doc=f"(&dst, value): dst = {op}(dst, value) atomically")
           for op in ("add", "max", "min")}

# -- output, addresses and the thread's place ----------------------------------------------------
DEVICE_ASSERT = _define("device_assert", Effect.OUTPUT, doc="(condition, message): stop the kernel when false")
PRINTF = _define("printf", Effect.OUTPUT, doc="(format, *values): formatted device output")
ADDRESS_OF = _define("address_of", doc="(BufferLoad | Var): the address of an element or a variable")
REINTERPRET = _define("reinterpret", doc="(type name, pointer): the value at the pointer read as another type")
EXTERN = _define("extern", _MEM | Effect.OUTPUT,
                 doc="(name, *args): a device function by name (T.call_extern); effects unknown")
BLOCK_INDEX = tuple(_define(f"block_index_{x}", doc=f"this block's index along {x}") for x in "xyz")
THREAD_INDEX = tuple(_define(f"thread_index_{x}", doc=f"this thread's index along {x}") for x in "xyz")

# -- math: pure, element-wise (arities in expr.MATH_INTRINSICS) ------------------------------------
MATH = {name: _define(name, doc=f"{name} of {arity} argument(s)") for name, arity in E.MATH_INTRINSICS.items()}


def is_math(node) -> bool:
    """Whether `node` calls a math function: pure, free to evaluate anywhere, any number of times."""
    intrinsic = lookup(node)
    return intrinsic is not None and MATH.get(intrinsic.name) is intrinsic
