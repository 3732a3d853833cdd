"""LowerContext: what a tile-op lowering needs to know about where it runs.

Every lowering (`lower_copy`, `lower_reduce`, GEMM's `lower_gemm`, ...) receives one. It names
the executing thread group (`thread`: the thread's index within the group, `num_threads`),
the target, the LayoutMap, and turns accesses to the user's buffers into accesses to their
lowered storage: shared buffers become 1-D (offset through their Layout), fragments become
per-thread local arrays (index = Fragment.register), locals are flattened row-major.
"""
from __future__ import annotations

import dataclasses

from ....errors import CompileError
from ....ir import expr as E
from ....ir import intrinsics as I
from ....ir import stmt as S
from ....ir.buffer import Buffer
from ....ir.dtypes import int32
from ....transform.context import PassContext
from ....arith import VarRanges, simplify
from ....ir.dtypes import handle
from ....ir.scope import SHARED_SCOPES, Scope



@dataclasses.dataclass
class LowerContext(PassContext):
    thread: E.Expr = E.const(0)    # the executing thread's index within its group
    num_threads: int = 1           # threads in the group
    thread_base: int = 0           # first thread of the group in the block
    block_threads: int = 0
    lowered: dict = dataclasses.field(default_factory=dict)   # user Buffer -> lowered Buffer
    new_allocations: list = dataclasses.field(default_factory=list)
    tma_descriptors: list = dataclasses.field(default_factory=list)
    ranges: VarRanges = dataclasses.field(default_factory=VarRanges)  # vars in scope (bound proofs)
    ws_blocks: list = dataclasses.field(default_factory=list)  # the IfThenElse each T.ws became

    def with_group(self, thread, num_threads, base) -> "LowerContext":
        return dataclasses.replace(self, thread=thread, num_threads=num_threads, thread_base=base)

    # -- layouts --------------------------------------------------------------------------
    def layout(self, buffer: Buffer):
        """The Layout / Fragment of a shared or fragment buffer, None when the map has none."""
        buffers = getattr(self.layout_map, "buffers", None) or {}
        return buffers.get(buffer)

    def row_width(self, buffer: Buffer):
        """Last-dim elements that stay consecutive in `buffer`'s storage (vector accesses must
        not cross it): the run its shared Layout keeps contiguous, else a row of the buffer."""
        layout = self.layout(buffer) if buffer.memory_scope in SHARED_SCOPES else None
        return layout.contiguous_width() if layout is not None else buffer.shape[-1]

    def fragment(self, buffer: Buffer):
        frag = self.layout(buffer)
        if frag is None:
            raise CompileError(f"no layout was inferred for the fragment {buffer.name}", buffer.span)
        return frag

    # -- fresh names and buffers ---------------------------------------------------------------
    def var(self, name: str, dtype=int32) -> E.Var:
        return E.Var(dtype, name)

    def alloc(self, name: str, shape, dtype, scope: str, lowered: bool = True) -> Buffer:
        """A buffer created by lowering (scratch, accumulators); lands in the kernel's allocations.
        lowered=False: an n-d tile like the user's (row-major), for lowerings built from other ops."""
        buf = Buffer(name, tuple(E.const(s) if isinstance(s, int) else s for s in shape), dtype, scope)
        self.new_allocations.append(buf)
        if lowered:
            self.lowered[buf] = buf
        return buf

    # -- access lowering -----------------------------------------------------------------------
    def is_lowered(self, buffer) -> bool:
        return any(buffer is b for b in self.lowered.values())

    def storage(self, buffer: Buffer) -> Buffer:
        """The lowered buffer that holds `buffer`'s elements (itself for global / lowered ones)."""
        low = self.lowered.get(buffer)
        if low is not None:
            return low
        scope = buffer.memory_scope
        if scope == Scope.GLOBAL or self.is_lowered(buffer) or scope == Scope.BARRIER or scope == Scope.VAR:
            return buffer
        if scope in SHARED_SCOPES:
            layout = self.layout(buffer)
            size = layout.size if layout is not None else buffer.numel()
            low = Buffer(buffer.name, (E.const(size),), buffer.dtype, Scope.SHARED_DYN, span=buffer.span)
        elif scope == Scope.FRAGMENT:
            frag = self.fragment(buffer)
            low = Buffer(buffer.name, (E.const(frag.num_registers),), buffer.dtype, Scope.LOCAL, span=buffer.span)
        elif scope == Scope.LOCAL:
            if len(buffer.shape) == 1:
                return buffer
            low = Buffer(buffer.name, (E.const(buffer.numel()),), buffer.dtype, Scope.LOCAL, span=buffer.span)
        else:
            return buffer
        self.lowered[buffer] = low
        return low

    def flat_index(self, buffer: Buffer, indices) -> tuple:
        """Indices into `storage(buffer)` for the logical element `indices` of `buffer`."""
        scope = buffer.memory_scope
        if scope == Scope.GLOBAL or scope == Scope.BARRIER or scope == Scope.VAR or self.is_lowered(buffer):
            return tuple(indices)
        if scope in SHARED_SCOPES:
            layout = self.layout(buffer)
            if layout is not None:
                return (_expr(layout.offset(*indices)),)
            return (_row_major(indices, buffer.shape),)
        if scope == Scope.FRAGMENT:
            return (_expr(self.fragment(buffer).register(*indices)),)
        if scope == Scope.LOCAL and len(buffer.shape) != 1:
            return (_row_major(indices, buffer.shape),)
        return tuple(indices)

    def load(self, buffer: Buffer, indices) -> E.BufferLoad:
        return E.BufferLoad(buffer.dtype, self.storage(buffer), self.flat_index(buffer, indices))

    def store(self, buffer: Buffer, indices, value, span=None) -> S.BufferStore:
        return S.BufferStore(self.storage(buffer), self.flat_index(buffer, indices), E.cast(value, buffer.dtype),
                             span=span)

    def address(self, buffer: Buffer, indices) -> E.Expr:
        return address_of(self.load(buffer, indices))


def aligned_vector() -> dict:
    """Annotations of a vectorized loop whose accesses a lowering proved vector-aligned."""
    return {"aligned": True}


def lowered_loop() -> dict:
    """Annotations of a loop a lowering made: hazard-free inside (insert_syncs does not look in)."""
    return {"lowered": True}


def _expr(x) -> E.Expr:
    return x if isinstance(x, E.Expr) else E.const(int(x))


def _row_major(indices, shape) -> E.Expr:
    flat = None
    for i, s in zip(indices, shape):
        flat = E.convert(i) if flat is None else flat * s + i

    return simplify(flat)


def address_of(load: E.BufferLoad) -> E.Call:

    return I.ADDRESS_OF(load, dtype=handle)
