"""Tile operators: T.copy, T.fill, T.clear, T.gemm, T.reduce_*, T.cumsum, T.atomic_*, T.tma_copy."""
from __future__ import annotations

import enum

from ..errors import TileLangTypeError, TileLangValueError
from ..ir import expr as E
from ..ir import tileop as TOP
from ..ir.buffer import Buffer, BufferRegion
from ..ir.builder import current_builder
from .region import as_region, check_same_shape, pair, squeeze
from .region import same_extent
from ..ir.scope import Scope

__all__ = ["copy", "fill", "clear", "gemm", "GemmWarpPolicy", "reduce_max", "reduce_min", "reduce_sum",
           "reduce_abssum", "reduce_absmax", "reduce", "cumsum", "atomic_add", "atomic_max", "atomic_min",
           "tma_copy"]


def _emit(stmt):
    current_builder(type(stmt).__name__).emit(stmt)


def copy(src, dst, coalesced_width=None, disable_tma=False, eviction_policy=None, loop_layout=None):
    """Copy a tile between global, shared and fragment memory, casting to dst's dtype.

    A point operand (`A[i, j]`) is the origin of a box shaped like the other operand.
    Out-of-bounds global reads give 0; out-of-bounds global writes are dropped.
    """
    s, d = pair(src, dst, "T.copy")
    check_same_shape(s, d, "T.copy")
    ann = {}
    if coalesced_width is not None:
        ann["coalesced_width"] = int(coalesced_width)
    if disable_tma:
        ann["disable_tma"] = True
    if eviction_policy is not None:
        ann["eviction_policy"] = eviction_policy
    if loop_layout is not None:
        ann["loop_layout"] = loop_layout
    _emit(TOP.Copy(s, d, ann))


def tma_copy(src, dst, *, barrier=None, **_ignored):
    """A bulk tensor copy global -> shared that completes on `barrier` (expect_tx, no arrive)."""
    s, d = pair(src, dst, "T.tma_copy")
    check_same_shape(s, d, "T.tma_copy")
    if barrier is not None:
        barrier = _barrier_load(barrier, "T.tma_copy")
    elif s.buffer.memory_scope == Scope.GLOBAL:
        raise TileLangValueError("T.tma_copy from global memory needs barrier=<an mbarrier from T.alloc_barrier>")
    _emit(TOP.TmaCopy(s, d, barrier))


def _barrier_load(bar, fn):
    if isinstance(bar, Buffer):
        bar = bar[0] if bar.ndim == 1 else None
    if not isinstance(bar, E.BufferLoad) or bar.buffer.memory_scope != Scope.BARRIER:
        raise TileLangTypeError(f"{fn}: expected a barrier from T.alloc_barrier (or one element of it), got {bar!r}")
    return bar


def fill(buffer, value):
    """Set every element of a tile (or region) to value."""
    region = as_region(buffer, "T.fill", "destination")
    _emit(TOP.Fill(region, E.cast(E.convert(value), region.dtype)))


def clear(buffer):
    """Set every element of a tile to zero."""
    fill(buffer, 0)


class GemmWarpPolicy(enum.IntEnum):
    """How T.gemm spreads warps over the C tile: balanced, all along M, or all along N."""

    Square = 0
    FullRow = 1
    FullCol = 2


def gemm(A, B, C, transpose_A=False, transpose_B=False, policy=GemmWarpPolicy.Square, clear_accum=False,
         k_pack=1, wg_wait=0, **_ignored):
    """C += op(A) @ op(B) on whole tiles (C = op(A) @ op(B) when clear_accum)."""
    a, b, c = (as_region(x, "T.gemm", n) for x, n in ((A, "A"), (B, "B"), (C, "C")))
    sa, sb, sc = squeeze(a.extents), squeeze(b.extents), squeeze(c.extents)
    for name, s, r in (("A", sa, a), ("B", sb, b), ("C", sc, c)):
        if len(s) != 2:
            raise TileLangValueError(f"T.gemm: {name} must be a 2-D tile (leading unit dims allowed), got {r!r}")
    m, ka = (sa[1], sa[0]) if transpose_A else (sa[0], sa[1])
    kb, n = (sb[1], sb[0]) if transpose_B else (sb[0], sb[1])

    if not same_extent(ka, kb):
        raise TileLangValueError(f"T.gemm: K of A ({ka!r}) and of B ({kb!r}) differ"
                                 f"{' (A is transposed)' if transpose_A else ''}{' (B is transposed)' if transpose_B else ''}")
    if not (same_extent(m, sc[0]) and same_extent(n, sc[1])):
        raise TileLangValueError(f"T.gemm: C is {tuple(sc)} but op(A) @ op(B) is ({m!r}, {n!r})")
    if c.buffer.memory_scope not in (Scope.FRAGMENT, Scope.LOCAL, Scope.SHARED, Scope.SHARED_DYN):
        raise TileLangValueError(f"T.gemm: C must be a fragment (T.alloc_fragment), got a {c.buffer.memory_scope} buffer")
    pol = policy.name if isinstance(policy, GemmWarpPolicy) else str(policy)
    if pol not in TOP.GEMM_POLICIES:
        raise TileLangValueError(f"T.gemm: unknown policy {policy!r}; use T.GemmWarpPolicy.Square/FullRow/FullCol")
    _emit(TOP.Gemm(a, b, c, bool(transpose_A), bool(transpose_B), pol, bool(clear_accum), int(k_pack), int(wg_wait)))


def reduce(buffer, out, reduce_type: str, dim: int = -1, clear: bool = True):
    """out = reduce(buffer) along dim; every thread holding a row gets its result."""
    if reduce_type not in TOP.REDUCE_KINDS:
        raise TileLangValueError(f"unknown reduction {reduce_type!r}; expected one of {TOP.REDUCE_KINDS}")
    fn = f"T.reduce_{reduce_type}"
    src, dst = as_region(buffer, fn, "source"), as_region(out, fn, "destination")
    nd = len(src.extents)
    if isinstance(dim, bool) or not isinstance(dim, int) or not -nd <= dim < nd:
        raise TileLangValueError(f"{fn}: dim must be an int in [{-nd}, {nd}), got {dim!r}")
    dim %= nd
    expected = BufferRegion(src.buffer, tuple(r for i, r in enumerate(src.region) if i != dim))
    check_same_shape(expected, dst, fn)
    _emit(TOP.Reduce(reduce_type, src, dst, dim, bool(clear)))


def reduce_max(buffer, out, dim=-1, clear=True):
    """Row/column maximum of a tile: out[i] = max_j buffer[i, j] for dim=1."""
    reduce(buffer, out, "max", dim, clear)


def reduce_min(buffer, out, dim=-1, clear=True):
    """out = min(buffer) along `dim` (an all-reduce; clear=False combines with out)."""
    reduce(buffer, out, "min", dim, clear)


def reduce_sum(buffer, out, dim=-1, clear=True):
    """out = sum(buffer) along `dim` (an all-reduce: every thread of a row holds the result; clear=False adds to out)."""
    reduce(buffer, out, "sum", dim, clear)


def reduce_abssum(buffer, out, dim=-1, clear=True):
    """out = sum(|buffer|) along `dim` (an all-reduce; clear=False adds to out)."""
    reduce(buffer, out, "abssum", dim, clear)


def reduce_absmax(buffer, out, dim=-1, clear=True):
    """out = max(|buffer|) along `dim` (an all-reduce: every thread of a row holds it; clear=False keeps out's values in)."""
    reduce(buffer, out, "absmax", dim, clear)


def cumsum(src, dst=None, dim=0, reverse=False):
    """Inclusive prefix sum along dim (in place when dst is None)."""
    s = as_region(src, "T.cumsum", "source")
    d = s if dst is None else as_region(dst, "T.cumsum", "destination")
    check_same_shape(s, d, "T.cumsum")
    nd = len(s.extents)
    if not -nd <= dim < nd:
        raise TileLangValueError(f"T.cumsum: dim must be in [{-nd}, {nd}), got {dim}")
    _emit(TOP.CumSum(s, d, dim % nd, bool(reverse)))


def _atomic(op, dst, value, fn):
    is_tile = isinstance(value, BufferRegion) or (isinstance(value, Buffer) and value.memory_scope != Scope.VAR)
    if isinstance(dst, E.BufferLoad) and not is_tile:
        v = E.cast(E.convert(value), dst.dtype)
        _emit(TOP.Atomic(op, dst.buffer, dst.indices, v))
        return
    if isinstance(value, (Buffer, BufferRegion, E.BufferLoad)) and not (isinstance(value, Buffer) and value.memory_scope == Scope.VAR):
        s, d = pair(value, dst, fn)
        check_same_shape(s, d, fn)
        _emit(TOP.AtomicRegion(op, d, s))
        return
    d = as_region(dst, fn, "destination")
    _emit(TOP.AtomicRegion(op, d, E.cast(E.convert(value), d.dtype)))


def atomic_add(dst, value, memory_order=None, return_prev=False, use_tma=False):
    """dst += value atomically: a scalar (dst = A[i]) or element-wise over a tile."""
    if return_prev:
        raise TileLangValueError("T.atomic_add(..., return_prev=True) is not supported yet")
    _atomic("add", dst, value, "T.atomic_add")


def atomic_max(dst, value, memory_order=None, return_prev=False):
    """Atomic `dst = max(dst, value)`: a scalar element, or element-wise over a tile."""
    _atomic("max", dst, value, "T.atomic_max")


def atomic_min(dst, value, memory_order=None, return_prev=False):
    """Atomic `dst = min(dst, value)`: a scalar element, or element-wise over a tile."""
    _atomic("min", dst, value, "T.atomic_min")
