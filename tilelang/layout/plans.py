"""Fragments that lowering derives rather than being told: thread plans for T.Parallel
iteration spaces, and the replicated layout of a reduction result (also with its reduced
dim kept as a unit dim). The plan for loops no fragment decides is layout/striped.py."""
from __future__ import annotations

import numpy as np

from ..errors import TileLangValueError
from .fragment import Fragment
from .index import flatten, prod, unflatten
from .linear import BitMatrix, log2_exact, reduce_by, span_basis


# Plans use // and % (not shifts and masks) because the simplifier folds them: with r = 4*k,
# (4*k) // 4 is k and (4*k) % 4 is 0. Indices are non-negative, so C's / and % agree.
def _div(x, n: int):
    return x // n


def _mod(x, n: int):
    return x % n


def parallel_plan(shape, num_threads: int, vector_width: int = 1, replicate_small: bool = True) -> Fragment:
    """Runs of `vector_width` consecutive last-dim elements go to threads round-robin.

    A space with fewer runs than threads is replicated when the runs divide the threads
    (every thread holds a copy, no guard needed) and `replicate_small`; otherwise slots past
    the end are holes that `covers(thread, register)` reports. Loops with side effects (global
    stores, atomics) ask for holes, so that no iteration runs twice.
    """
    shape = tuple(int(s) for s in shape)
    T, vw = int(num_threads), int(vector_width)
    if vw <= 0 or shape[-1] % vw:
        raise TileLangValueError(f"vector width {vw} does not divide the last extent of {shape}")
    runs = prod(shape) // vw

    def elem(run, vec):
        return unflatten(run * vw + vec if vw > 1 else run, shape)

    if replicate_small and runs <= T and T % runs == 0:
        def fn(*i):
            flat = flatten(i, shape)
            return _div(flat, vw), _mod(flat, vw)

        return Fragment(shape, T, fn, lambda t, r: elem(_mod(t, runs), r),
                        replicate=T // runs, num_registers=vw, name=f"plan(vec={vw})")

    per_thread = -(-runs // T)

    def fn(*i):
        flat = flatten(i, shape)
        run = _div(flat, vw)
        return _mod(run, T), _div(run, T) * vw + _mod(flat, vw)

    def inverse(t, r):
        return elem(_div(r, vw) * T + t, _mod(r, vw))

    def covers(t, r):
        return _div(r, vw) * T + t < runs

    return Fragment(shape, T, fn, inverse, num_registers=per_thread * vw,
                    covers_fn=covers if runs % T else None, name=f"plan(vec={vw})")


def line_plan(shape, num_threads: int, dim: int) -> Fragment:
    """Each thread owns whole lines along `dim` (lines round-robin over threads): a reduction
    along `dim` then needs no other thread. The layout for shapes that are not powers of two,
    where a round-robin plan's rows land on irregular thread sets."""
    shape = tuple(int(s) for s in shape)
    T, n = int(num_threads), shape[dim]
    rest = shape[:dim] + shape[dim + 1:]
    lines = prod(rest)

    def split(index):
        return flatten(index[:dim] + index[dim + 1:], rest), index[dim]

    def fn(*i):
        line, k = split(i)
        return line % T, line // T * n + k

    def inverse(t, r):
        line, k = r // n * T + t, r % n
        outer = unflatten(line, rest) if rest else ()
        return tuple(outer[:dim]) + (k,) + tuple(outer[dim:])

    covers = None if lines % T == 0 else (lambda t, r: r // n * T + t < lines)
    return Fragment(shape, T, fn, inverse, num_registers=-(-lines // T) * n, covers_fn=covers,
                    name=f"lines(dim={dim})")


def replicated_rows(fragment: Fragment, dim: int) -> Fragment:
    """The layout of `reduce(fragment, dim)`: each remaining element is held by every thread
    that held part of its row, in the same register in each of them (an all-reduce result)."""
    shape = fragment.shape
    if not 0 <= dim < len(shape):
        raise TileLangValueError(f"cannot reduce dim {dim} of a {len(shape)}-d fragment")
    out_shape = shape[:dim] + shape[dim + 1:] or (1,)
    m = fragment.linear
    if m is not None and len(shape) > 1:
        frag = _linear_rows(fragment, m, dim, out_shape)
        if frag is not None:
            return frag
    # Irregular layouts: a plain plan over the result when it is exactly the rows' holders.
    T = fragment.num_threads
    for candidate in (parallel_plan(out_shape, T, 1, replicate_small=False), parallel_plan(out_shape, T, 1)):
        if _holds_rows(fragment, dim, candidate):
            return candidate
    return broadcast(out_shape, T)


def _holds_rows(src: Fragment, dim: int, dst: Fragment) -> bool:
    """dst holds each row's result in exactly the threads holding the row, and each source
    register feeds one destination register in every thread."""
    if len(src.shape) < 2:
        return False
    threads, regs = src.tables()
    moved = np.moveaxis(threads, dim + 1, -1)                       # (rep, *rest, n)
    holders = np.sort(np.moveaxis(moved, 0, -1).reshape(moved.shape[1:-1] + (-1,)), axis=-1)
    dst_threads = np.sort(np.moveaxis(dst.tables()[0], 0, -1), axis=-1)
    for idx in np.ndindex(*dst.shape):
        if not np.array_equal(np.unique(holders[idx]), np.unique(dst_threads[idx])):
            return False
    dst_reg = np.expand_dims(dst.tables()[1], dim)                  # broadcast along dim
    per_src_reg = np.broadcast_to(dst_reg, src.shape)
    for r in np.unique(regs):
        if len(np.unique(per_src_reg[regs == r])) != 1:
            return False
    return True


def with_unit_dim(fragment: Fragment, dim: int) -> Fragment:
    """`fragment` with a unit dimension inserted at `dim`, the same threads and registers
    (a (M, 1) reduce result as the (M,) one of replicated_rows)."""
    shape = fragment.shape[:dim] + (1,) + fragment.shape[dim:]

    def fn(*i, rep=0):
        return fragment._fn(*(i[:dim] + i[dim + 1:]), rep=rep)

    def inverse(t, r):
        idx = fragment.logical(t, r)
        return tuple(idx[:dim]) + (0,) + tuple(idx[dim:])

    return Fragment(shape, fragment.num_threads, fn, inverse, fragment.replicate, fragment.num_registers,
                    covers_fn=fragment.covers, name=fragment.name)


def broadcast(shape, num_threads: int) -> Fragment:
    """Every thread holds the whole tile (always correct, the fallback for irregular layouts)."""
    shape = tuple(shape)
    return Fragment(shape, num_threads, lambda *i, rep=0: (rep, flatten(i, shape)),
                    lambda t, r: unflatten(r, shape), replicate=num_threads,
                    num_registers=prod(shape), name="broadcast")


def _linear_rows(fragment: Fragment, m: BitMatrix, dim: int, out_shape) -> Fragment | None:
    shape = fragment.shape
    n_reg = log2_exact(fragment.num_registers)
    reg_mask = (1 << n_reg) - 1
    bits = [log2_exact(s) for s in shape]
    lo = sum(bits[dim + 1:])
    dim_bits = range(lo, lo + bits[dim])
    n_idx = sum(bits)
    keep = [b for b in range(n_idx) if b not in dim_bits]
    # Threads that differ only by the reduced dim or by a replica hold the same result.
    rep_space = span_basis([m.cols[b] >> n_reg for b in dim_bits] + [c >> n_reg for c in m.cols[n_idx:]])
    thr_cols = [reduce_by(m.cols[b] >> n_reg, rep_space) for b in keep]
    # Registers: the kept bits' register images renumbered compactly, in index-bit order.
    reg_cols, n_reg_out = _compact([m.cols[b] & reg_mask for b in keep])
    cols = [r | t << n_reg_out for r, t in zip(reg_cols, thr_cols)] + [v << n_reg_out for v in rep_space]
    n_out = n_reg_out + log2_exact(fragment.num_threads)
    matrix = BitMatrix(len(cols), n_out, tuple(cols))
    if matrix.n_in != n_out or matrix.rank() != n_out:
        return None
    return Fragment.from_linear(out_shape, fragment.num_threads, 1 << n_reg_out, matrix,
                                replicate=1 << len(rep_space), name=f"rows({fragment.name})")


def _compact(images: list):
    """Re-express bit vectors in a new basis drawn from them in order: returns each image's
    coordinates (a bit set over new unit vectors) and the rank."""
    echelon: list = []  # (vector, coordinates), distinct leading bits
    out = []
    for x in images:
        coord = 0
        for vec, c in echelon:
            if x >> (vec.bit_length() - 1) & 1:
                x ^= vec
                coord ^= c
        if x:
            unit = 1 << len(echelon)
            echelon.append((x, coord ^ unit))
            echelon.sort(key=lambda e: -e[0])
            coord = unit
        out.append(coord)
    return out, len(echelon)
