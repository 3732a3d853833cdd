"""Fragment: a register tile spread over the threads of a block.

Each logical element lives in register `register(*index)` of thread `thread(*index, rep)`,
for rep in range(replicate): replicate > 1 when several threads hold a copy (the result of
a row reduction, or a tile smaller than the block). The register of an element never
depends on the thread, so lowering can index the per-thread local array with it directly.
"""
from __future__ import annotations

import hashlib
import inspect

import numpy as np

from ..errors import TileLangValueError
from ..ir import expr as E
from .index import as_int, evaluate_table, flatten, in_bounds, normalize, normalize_args, prod, unflatten
from .linear import BitMatrix, log2_exact


class Fragment:
    """(logical index, rep) -> (thread, register) over a static `shape`.

    `fn(*index)` or `fn(*index, rep)` returns (thread, register). Without a `rep` parameter the
    replicas of an element are `thread + rep * (num_threads // replicate)`.
    `inverse_fn(thread, register)` gives the index a slot holds; `covers_fn(thread, register)`
    says whether a slot holds an element at all (plans over shapes that do not divide).
    """

    def __init__(self, shape, num_threads: int | None = None, fn=None, inverse_fn=None, replicate: int = 1,
                 num_registers: int | None = None, covers_fn=None, name: str = "fragment", *,
                 forward_fn=None, forward_thread_fn=None, forward_index_fn=None):
        self.shape = tuple(int(s) for s in shape)
        self.replicate = int(replicate)
        self.name = name
        if fn is None:
            fn = _reference_style(forward_fn, forward_thread_fn, forward_index_fn, self.replicate)
        if any(s <= 0 for s in self.shape) or (num_threads is not None and num_threads <= 0) or self.replicate <= 0:
            raise TileLangValueError(f"bad fragment: shape {self.shape}, {num_threads} threads, replicate {replicate}")
        self.num_threads = int(num_threads) if num_threads is not None else None
        self._fn = _with_rep(fn, self.num_threads, self.replicate)
        self._inverse_fn = inverse_fn
        self._covers_fn = covers_fn
        self._tables = None
        self._linear = False    # False: not computed yet; None: not linear
        self._inverse = False   # likewise for the inverse bit matrix
        self._slots = None
        threads, regs = self.tables()
        if self.num_threads is None:  # the reference TileLang infers the thread extent
            self.num_threads = int(threads.max()) + 1
        self.num_registers = int(num_registers) if num_registers is not None else int(regs.max()) + 1
        self._check()

    @staticmethod
    def from_function(shape, num_threads, fn, inverse_fn=None, replicate=1, num_registers=None,
                      covers_fn=None, name: str = "fragment") -> "Fragment":
        return Fragment(shape, num_threads, fn, inverse_fn, replicate, num_registers, covers_fn, name)

    @staticmethod
    def from_linear(shape, num_threads: int, num_registers: int, matrix: BitMatrix, replicate: int = 1,
                    name: str = "fragment") -> "Fragment":
        """A fragment given by a bit matrix from (row-major index bits, then rep bits) to
        (register bits, then thread bits)."""
        n_idx = log2_exact(prod(shape))
        n_reg = log2_exact(num_registers)
        n_rep = log2_exact(replicate)
        if None in (n_idx, n_reg, n_rep, log2_exact(num_threads)) or matrix.n_in != n_idx + n_rep:
            raise TileLangValueError(f"from_linear needs power-of-two sizes matching the matrix ({shape}, {num_threads})")
        reg_mask = (1 << n_reg) - 1
        idx_reg = BitMatrix(n_idx, n_reg, tuple(c & reg_mask for c in matrix.cols[:n_idx]))
        idx_thr = BitMatrix(n_idx, matrix.n_out - n_reg, tuple(c >> n_reg for c in matrix.cols[:n_idx]))
        rep_thr = BitMatrix(n_rep, matrix.n_out - n_reg, tuple(c >> n_reg for c in matrix.cols[n_idx:]))
        if any(c & reg_mask for c in matrix.cols[n_idx:]):
            raise TileLangValueError("a replica must use the same register as the original")

        def fn(*index, rep=0):
            flat = flatten(index, shape)
            thread = idx_thr.to_expr(flat)
            if n_rep and as_int(rep) != 0:
                thread = _combine(idx_thr, flat, rep_thr, rep)
            return thread, idx_reg.to_expr(flat)

        frag = Fragment(shape, num_threads, fn, None, replicate, num_registers, name=name)
        frag._linear = matrix
        return frag

    # -- maps -------------------------------------------------------------------------
    def thread(self, *index, rep=0):
        """The thread holding replica `rep` of an element."""
        self._check_arity(index)
        args, _ = normalize_args(tuple(index) + (rep,))
        return normalize(self._fn(*args[:-1], rep=args[-1])[0])

    def register(self, *index):
        """The register (local array slot) holding an element, in every thread holding it."""
        self._check_arity(index)
        args, _ = normalize_args(index)
        return normalize(self._fn(*args, rep=0)[1])

    def logical(self, thread, register) -> tuple:
        """The element held in `register` of `thread` (meaningful where `covers` holds)."""
        if self._inverse_fn is not None:
            args, _ = normalize_args((thread, register))
            return tuple(normalize(x) for x in self._inverse_fn(*args))
        t, r = as_int(thread), as_int(register)
        inv = self._linear_inverse()
        if inv is not None:
            n_idx = log2_exact(prod(self.shape))
            mask = (1 << n_idx) - 1
            if t is not None and r is not None:
                return unflatten(inv.apply(r | t << self._n_reg()) & mask, self.shape)
            n_reg = self._n_reg()
            to_idx = BitMatrix(inv.n_in, n_idx, tuple(c & mask for c in inv.cols))
            from_reg = BitMatrix(n_reg, n_idx, to_idx.cols[:n_reg])
            from_thr = BitMatrix(inv.n_in - n_reg, n_idx, to_idx.cols[n_reg:])
            (thread, register), _ = normalize_args((thread, register))
            flat = _combine(from_thr, thread, from_reg, register)
            return unflatten(normalize(flat), self.shape)
        if t is not None and r is not None:
            slot = self._slot_table().get((t, r))
            if slot is None:
                raise TileLangValueError(f"thread {t} register {r} holds no element of {self!r}")
            return slot
        raise TileLangValueError(f"{self!r} has no symbolic inverse; give inverse_fn")

    def covers(self, thread, register):
        """Whether (thread, register) holds an element: True, False or a bool expression."""
        if self._covers_fn is not None:
            args, _ = normalize_args((thread, register))
            out = normalize(self._covers_fn(*args))
            return bool(out) if as_int(out) is not None else out
        if self.is_dense():
            return True
        t, r = as_int(thread), as_int(register)
        if t is not None and r is not None:
            return (t, r) in self._slot_table()
        return in_bounds(self.logical(thread, register), self.shape)

    def primary(self, thread, register):
        """Whether (thread, register) holds replica 0 of its element (True, False or a bool
        expression): a loop over a replicated layout guards side effects (atomics) with it so
        that each element's effect happens once."""
        if self.replicate == 1:
            return True
        t, r = as_int(thread), as_int(register)
        if t is not None and r is not None:
            idx = self._slot_table().get((t, r))
            return idx is not None and self.thread(*idx) == t
        inv = self._linear_inverse()
        if inv is not None:
            n_idx, n_reg = log2_exact(prod(self.shape)), self._n_reg()
            to_rep = BitMatrix(inv.n_in, inv.n_in - n_idx, tuple(c >> n_idx for c in inv.cols))
            (thread, register), _ = normalize_args((thread, register))
            rep = _combine(BitMatrix(inv.n_in - n_reg, to_rep.n_out, to_rep.cols[n_reg:]), thread,
                           BitMatrix(n_reg, to_rep.n_out, to_rep.cols[:n_reg]), register)
        else:
            (thread, register), _ = normalize_args((thread, register))
            rep = self.thread(*self.logical(thread, register)) - thread
        out = normalize(E.binary("==", rep, 0))
        return bool(out) if as_int(out) is not None else out

    def is_dense(self) -> bool:
        """Every (thread, register) slot holds exactly one element copy."""
        return self.num_threads * self.num_registers == prod(self.shape) * self.replicate and self._is_injective()

    # -- derived facts ----------------------------------------------------------------
    def tables(self):
        """(threads, registers): threads has shape (replicate, *shape), registers `shape`."""
        if self._tables is None:
            reps = []
            regs = None
            for rep in range(self.replicate):
                t, r = evaluate_table(lambda *i, _rep=rep: self._fn(*i, rep=_rep), self.shape, 2)
                if regs is None:
                    regs = r
                elif not np.array_equal(regs, r):
                    raise TileLangValueError(f"{self.name}: a replica uses a different register")
                reps.append(t)
            threads = np.stack(reps)
            threads.setflags(write=False)
            regs.setflags(write=False)
            self._tables = (threads, regs)
        return self._tables

    def table(self):
        """(threads of replica 0, registers), each an array of `shape`."""
        threads, regs = self.tables()
        return threads[0], regs

    @property
    def linear(self) -> BitMatrix | None:
        """GF(2) matrix (index bits, rep bits) -> (register bits, thread bits), if linear."""
        if self._linear is False:
            self._linear = self._probe_linear()
        return self._linear

    def vector_width(self) -> int:
        """Largest power of two w dividing the last extent such that each aligned run of w
        last-dim elements is in one thread, in w consecutive w-aligned registers."""
        threads, regs = self.tables()
        last = self.shape[-1]
        w = 1
        while last % (w * 2) == 0:
            cand = w * 2
            t = threads.reshape(-1, cand)
            r = regs.reshape(-1, cand)
            if not (np.all(t == t[:, :1]) and np.all(r[:, 0] % cand == 0) and np.all(r - r[:, :1] == np.arange(cand))):
                break
            w = cand
        return w

    def thread_sets(self) -> np.ndarray:
        """Sorted threads holding each element, shape (*shape, replicate)."""
        return np.sort(np.moveaxis(self.tables()[0], 0, -1), axis=-1)

    def holds_all_of(self, other: "Fragment") -> bool:
        """Every thread that `other` assigns an element to holds that element here too (so a
        loop laid out by `other` may read this fragment from registers)."""
        if self.shape != other.shape or self.num_threads != other.num_threads:
            return False
        mine = self.tables()[0]
        for t in other.tables()[0]:
            if not np.all(np.any(mine == t[None], axis=0)):
                return False
        return True

    def register_from(self, loop: "Fragment", thread, register):
        """This fragment's register for the element that `loop` gives to (thread, register);
        through bit algebra when both are linear, so no spurious thread term survives."""
        if self.shape != loop.shape:
            raise TileLangValueError(f"{self!r} and loop {loop!r} cover different shapes")
        if self.is_equal(loop):
            return normalize(register)
        mine, theirs = self.linear, loop._linear_inverse()
        if mine is not None and theirs is not None:
            n_idx = log2_exact(prod(self.shape))
            n_reg = self._n_reg()
            idx_to_reg = BitMatrix(n_idx, n_reg, tuple(c & ((1 << n_reg) - 1) for c in mine.cols[:n_idx]))
            to_idx = BitMatrix(theirs.n_in, n_idx, tuple(c & ((1 << n_idx) - 1) for c in theirs.cols))
            m = idx_to_reg.compose(to_idx)
            lr = loop._n_reg()
            (thread, register), _ = normalize_args((thread, register))
            from_reg = BitMatrix(lr, n_reg, m.cols[:lr])
            from_thr = BitMatrix(m.n_in - lr, n_reg, m.cols[lr:])
            return normalize(_combine(from_thr, thread, from_reg, register))
        return normalize(self.register(*loop.logical(thread, register)))

    def is_equal(self, other) -> bool:
        if not isinstance(other, Fragment):
            return False
        if other is self:
            return True
        if (self.shape, self.num_threads, self.replicate, self.num_registers) != (
                other.shape, other.num_threads, other.replicate, other.num_registers):
            return False
        return (np.array_equal(self.thread_sets(), other.thread_sets())
                and np.array_equal(self.tables()[1], other.tables()[1]))

    def __tl_key__(self):
        threads, regs = self.tables()
        digest = hashlib.sha1(threads.tobytes() + regs.tobytes()).hexdigest()
        return ("Fragment", self.shape, self.num_threads, self.replicate, self.num_registers, digest)

    def __repr__(self) -> str:
        rep = f", replicate={self.replicate}" if self.replicate > 1 else ""
        return (f"Fragment({self.name}, shape={self.shape}, threads={self.num_threads}, "
                f"registers={self.num_registers}{rep})")

    # -- internals --------------------------------------------------------------------
    def _check_arity(self, index):
        if len(index) != len(self.shape):
            raise TileLangValueError(f"{self!r} indexed with {len(index)} indices")

    def _check(self):
        threads, regs = self.tables()
        if threads.min() < 0 or threads.max() >= self.num_threads:
            raise TileLangValueError(f"{self.name}: threads outside [0, {self.num_threads})")
        if regs.min() < 0 or regs.max() >= self.num_registers:
            raise TileLangValueError(f"{self.name}: registers outside [0, {self.num_registers})")
        if not self._is_injective():
            raise TileLangValueError(f"{self.name}: two element copies share a (thread, register) slot")

    def _is_injective(self) -> bool:
        threads, regs = self.tables()
        slots = threads.astype(np.int64) * self.num_registers + regs[None]
        return len(np.unique(slots)) == slots.size

    def _n_reg(self) -> int:
        return log2_exact(self.num_registers)

    def _slot_table(self) -> dict:
        if self._slots is None:
            threads, regs = self.tables()
            slots = {}
            for rep in range(self.replicate):
                for idx in np.ndindex(*self.shape):
                    slots[(int(threads[rep][idx]), int(regs[idx]))] = idx
            self._slots = slots
        return self._slots

    def _probe_linear(self) -> BitMatrix | None:
        n_idx, n_rep = log2_exact(prod(self.shape)), log2_exact(self.replicate)
        n_reg, n_thr = log2_exact(self.num_registers), log2_exact(self.num_threads)
        if None in (n_idx, n_rep, n_reg, n_thr):
            return None
        threads, regs = self.tables()
        flat = (regs[None] + (threads.astype(np.int64) << n_reg)).reshape(-1)
        if flat[0] != 0:
            return None
        m = BitMatrix(n_idx + n_rep, n_reg + n_thr, tuple(int(flat[1 << i]) for i in range(n_idx + n_rep)))
        return m if np.array_equal(m.all_images(), flat) else None

    def _linear_inverse(self) -> BitMatrix | None:
        if self._inverse is False:
            m = self.linear
            self._inverse = None
            if m is not None and m.n_in == m.n_out and m.rank() == m.n_in:
                self._inverse = m.inverse()
        return self._inverse


def _combine(ma: BitMatrix, a, mb: BitMatrix, b):
    """ma(a) XOR mb(b), written as a sum when the two images use disjoint bits."""
    x, y = ma.to_expr(a), mb.to_expr(b)
    if as_int(x) == 0:
        return y
    if as_int(y) == 0:
        return x
    bits_a = bits_b = 0
    for c in ma.cols:
        bits_a |= c
    for c in mb.cols:
        bits_b |= c
    return x + y if bits_a & bits_b == 0 else x ^ y


def _reference_style(forward_fn, forward_thread_fn, forward_index_fn, replicate: int):
    """`fn(*index, rep)` from the reference TileLang's Fragment(shape, forward_fn=...) or
    (forward_thread_fn=..., forward_index_fn=...); the replica is their last positional argument."""
    def one(register):
        if isinstance(register, (list, tuple)):
            if len(register) != 1:
                raise TileLangValueError("a fragment's register index must be one value")
            return register[0]
        return register

    def call(f, index, rep):
        return f(*index, rep) if replicate > 1 else f(*index)

    if forward_fn is not None:
        def fn(*index, rep=0):
            thread, register = call(forward_fn, index, rep)
            return thread, one(register)
    elif forward_thread_fn is not None and forward_index_fn is not None:
        def fn(*index, rep=0):
            return call(forward_thread_fn, index, rep), one(forward_index_fn(*index))
    else:
        raise TileLangValueError("a Fragment needs fn, forward_fn, or forward_thread_fn with forward_index_fn")
    return fn


def _with_rep(fn, num_threads: int | None, replicate: int):
    """Normalize `fn` to take `rep`; default replicas sit num_threads // replicate apart."""
    try:
        takes_rep = "rep" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes_rep = False
    if takes_rep:
        return fn
    if replicate == 1:
        return lambda *index, rep=0: fn(*index)
    if num_threads is None:
        raise TileLangValueError("a replicated fragment whose fn takes no `rep` needs num_threads")
    if num_threads % replicate:
        raise TileLangValueError(f"{replicate} replicas do not divide {num_threads} threads")
    stride = num_threads // replicate

    def with_rep(*index, rep=0):
        t, r = fn(*index)
        return t + rep * stride, r

    return with_rep
