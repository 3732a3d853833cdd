"""Memory allocation inside a kernel: shared tiles, per-thread arrays, fragments, scalars, barriers.

Each function returns a `Buffer` whose `.scope()` names where it lives. They must be called
inside `with T.Kernel(...)`; the buffer lives for the whole kernel and is named after the
variable it is assigned to.
"""
from __future__ import annotations

from ..errors import TileLangTypeError, TileLangValueError
from ..ir import expr as E
from ..ir.buffer import Buffer
from ..ir.builder import current_builder
from ..ir.dtypes import as_dtype, uint64
from ..ir.scope import Scope

__all__ = ["alloc_shared", "alloc_local", "alloc_fragment", "alloc_var", "alloc_barrier"]


def alloc_shared(shape, dtype, scope="shared.dyn") -> Buffer:
    """A tile in shared memory, visible to every thread of the block.

    shape: tuple of positive extents; dtype: a dtype name or T.<dtype>; scope: "shared.dyn"
    (the default, one dynamic arena per kernel) or "shared". Bool tiles use "shared".
    """
    dtype = _dtype(dtype, "alloc_shared")
    if dtype.is_bool:
        scope = Scope.SHARED
    return _allocate("alloc_shared", shape, dtype, scope, (Scope.SHARED_DYN, Scope.SHARED))


def alloc_local(shape, dtype, scope="local") -> Buffer:
    """A small array private to each thread (registers or local memory)."""
    return _allocate("alloc_local", shape, _dtype(dtype, "alloc_local"), scope, (Scope.LOCAL,))


def alloc_fragment(shape, dtype, scope="local.fragment") -> Buffer:
    """A block-level tile held in registers, spread over the block's threads.

    The compiler picks which thread holds which element from the ops that use it (a gemm
    accumulator, a reduction output, a T.Parallel loop).
    """
    return _allocate("alloc_fragment", shape, _dtype(dtype, "alloc_fragment"), scope, (Scope.FRAGMENT,))


def alloc_var(dtype, *args, scope="local.var", init=None) -> Buffer:
    """A per-thread scalar variable. Assigning to its name stores; reading it loads.

    Accepted forms: alloc_var(dtype), alloc_var(dtype, init), alloc_var(dtype, init=v),
    alloc_var(dtype, scope), alloc_var(dtype, init, scope).
    """
    if len(args) == 1:
        if isinstance(args[0], str) and init is None:
            scope = args[0]
        elif init is not None:
            raise TileLangTypeError("alloc_var: the initial value is given twice (positionally and as init=)")
        else:
            init = args[0]
    elif len(args) == 2:
        if init is not None:
            raise TileLangTypeError("alloc_var: the initial value is given twice (positionally and as init=)")
        init, scope = args
        if not isinstance(scope, str):
            raise TileLangTypeError(f"alloc_var: scope must be a string, got {scope!r}")
    elif len(args) > 2:
        raise TileLangTypeError(f"alloc_var takes at most 3 positional arguments (dtype, init, scope), got {len(args) + 1}")
    dtype = _dtype(dtype, "alloc_var")
    buffer = _allocate("alloc_var", (1,), dtype, scope, (Scope.VAR, Scope.LOCAL))
    if init is not None:
        if isinstance(init, str):
            raise TileLangTypeError(f"alloc_var: initial value must be a number or expression, got {init!r}")
        current_builder("alloc_var").store(buffer, (E.const(0),), init)
    return buffer


def alloc_barrier(arrive_count) -> Buffer:
    """mbarriers in shared memory, one per arrive count, initialised once per block.

    arrive_count: an int (one barrier) or a list of ints; each is the number of arrivals
    that completes a phase of its barrier. Index the result to pick a barrier.
    """
    counts = [arrive_count] if not isinstance(arrive_count, (list, tuple)) else list(arrive_count)
    if not counts:
        raise TileLangValueError("alloc_barrier needs at least one arrive count")
    for c in counts:
        if isinstance(c, bool) or not isinstance(c, int):
            raise TileLangTypeError(f"alloc_barrier: arrive counts must be Python ints, got {c!r}")
        if c <= 0:
            raise TileLangValueError(f"alloc_barrier: arrive count must be positive, got {c}")
    return _allocate("alloc_barrier", (len(counts),), uint64, Scope.BARRIER, (Scope.BARRIER,),
                     arrive_counts=tuple(counts))


def _dtype(dtype, fn: str):
    try:
        return as_dtype(dtype)
    except ValueError as e:
        raise TileLangTypeError(f"{fn}: {e}") from None


def _allocate(fn, shape, dtype, scope, scopes, arrive_counts=None) -> Buffer:
    if not isinstance(scope, str) or scope not in scopes:
        raise TileLangValueError(f"{fn}: scope must be one of {', '.join(map(repr, scopes))}, got {scope!r}")
    builder = current_builder(fn)
    frame = builder.kernel(f"T.{fn}")
    dims = _shape(fn, shape)
    buffer = Buffer(builder.take_name(_DEFAULT_NAMES[fn]), dims, dtype, scope, span=builder.span,
                    arrive_counts=arrive_counts)
    frame.allocations.append(buffer)
    return buffer


_DEFAULT_NAMES = {"alloc_shared": "shared", "alloc_local": "local", "alloc_fragment": "fragment",
                  "alloc_var": "var", "alloc_barrier": "barrier"}


def _shape(fn, shape) -> tuple:
    if isinstance(shape, (int, E.Expr)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TileLangTypeError(f"{fn}: shape must be a non-empty tuple of extents, got {shape!r}")
    dims = []
    for s in shape:
        if isinstance(s, bool) or isinstance(s, float) or not isinstance(s, (int, E.Expr)):
            raise TileLangTypeError(f"{fn}: extents must be integers, got {s!r} in shape {tuple(shape)!r}")
        e = E.convert(s)
        if not e.dtype.is_int:
            raise TileLangTypeError(f"{fn}: extents must be integers, got {e.dtype} `{e!r}`")
        if isinstance(e, E.IntImm) and e.value <= 0:
            raise TileLangValueError(f"{fn}: extents must be positive, got {e.value} in shape {tuple(shape)!r}")
        dims.append(e)
    return tuple(dims)
