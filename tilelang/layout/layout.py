"""Layout: where each element of a shared or local tile lives in its flat storage."""
from __future__ import annotations

import hashlib

import numpy as np

from ..errors import TileLangValueError
from .index import as_int, evaluate_table, normalize, normalize_args, prod, unflatten
from .linear import BitMatrix, log2_exact


class Layout:
    """logical index -> flat offset, for a tile of static `shape` stored in `size` elements.

    `fn(*index)` is written with Python operators so that it serves ints (tests, tables) and
    IR expressions (codegen) alike. Power-of-two layouts that are GF(2)-linear on the bits of
    the row-major index also carry a `BitMatrix` (`linear`), which gives the inverse exactly.
    As in the reference TileLang, `fn` may return a list of physical coordinates; they are
    stored row-major over their extents.
    """

    def __init__(self, shape, fn, inverse_fn=None, size=None, name: str = "layout"):
        self.shape = tuple(int(s) for s in shape)
        if any(s <= 0 for s in self.shape):
            raise TileLangValueError(f"a layout needs positive static extents, got {self.shape}")
        fn, physical = _flat_output(fn, self.shape)
        self._fn = fn
        self._inverse_fn = inverse_fn
        self.size = int(size) if size is not None else max(prod(self.shape), physical)
        self.name = name
        self._table = None
        self._linear = False  # False: not computed yet; None: not linear

    @staticmethod
    def from_function(shape, fn, inverse_fn=None, size=None, name: str = "layout") -> "Layout":
        return Layout(shape, fn, inverse_fn, size, name)

    # -- maps -------------------------------------------------------------------------
    def offset(self, *index):
        """Flat offset of a logical index (int for ints, simplified expression otherwise)."""
        if len(index) != len(self.shape):
            raise TileLangValueError(f"{self.name} of shape {self.shape} indexed with {len(index)} indices")
        args, _ = normalize_args(index)
        return normalize(self._fn(*args))

    def inverse(self, offset) -> tuple:
        """The logical index stored at `offset`."""
        off = as_int(offset)
        if self._inverse_fn is not None:
            args, _ = normalize_args((offset,))
            return tuple(normalize(x) for x in self._inverse_fn(*args))
        lin = self.linear
        if lin is not None:
            flat = lin.inverse().apply(off) if off is not None else lin.inverse().to_expr(normalize_args((offset,))[0][0])
            return unflatten(flat, self.shape)
        if off is not None:
            where = np.argwhere(self.table() == off)
            if len(where) != 1:
                raise TileLangValueError(f"offset {off} holds no unique element of {self!r}")
            return tuple(int(x) for x in where[0])
        raise TileLangValueError(f"{self!r} has no symbolic inverse; give inverse_fn")

    # -- derived facts ----------------------------------------------------------------
    def table(self) -> np.ndarray:
        """The offset of every index (read-only array of `shape`)."""
        if self._table is None:
            (t,) = evaluate_table(self._fn, self.shape, 1)
            t.setflags(write=False)
            self._table = t
        return self._table

    @property
    def linear(self) -> BitMatrix | None:
        """The GF(2) matrix from row-major index bits to offset bits, when there is one."""
        if self._linear is False:
            self._linear = _probe_linear(self.table().reshape(-1), self.size)
        return self._linear

    def is_bijective(self) -> bool:
        t = self.table().reshape(-1)
        return t.min() >= 0 and t.max() < self.size and len(np.unique(t)) == t.size

    def contiguous_width(self) -> int:
        """Largest power of two w dividing the last extent such that each aligned run of w
        last-dim elements sits at w consecutive, w-aligned offsets (the vector access width)."""
        t = self.table()
        last = self.shape[-1]
        w = 1
        while last % (w * 2) == 0:
            cand = w * 2
            runs = t.reshape(-1, cand)
            if not (np.all(runs[:, 0] % cand == 0) and np.all(runs - runs[:, :1] == np.arange(cand))):
                break
            w = cand
        return w

    def is_equal(self, other) -> bool:
        return (isinstance(other, Layout) and self.shape == other.shape and self.size == other.size
                and np.array_equal(self.table(), other.table()))

    def __tl_key__(self):
        return ("Layout", self.shape, self.size, hashlib.sha1(self.table().tobytes()).hexdigest())

    def __repr__(self) -> str:
        return f"Layout({self.name}, shape={self.shape}, size={self.size})"


def _probe_linear(flat_table: np.ndarray, size: int) -> BitMatrix | None:
    """The bit matrix of a table indexed by row-major position, if the table is GF(2)-linear."""
    n_in = log2_exact(flat_table.size)
    n_out = log2_exact(size)
    if n_in is None or n_out is None or flat_table[0] != 0:
        return None
    m = BitMatrix(n_in, n_out, tuple(int(flat_table[1 << i]) for i in range(n_in)))
    if any(c >> n_out for c in m.cols) or not np.array_equal(m.all_images(), flat_table):
        return None
    return m


def _flat_output(fn, shape):
    """(fn returning one offset, physical size implied by fn) for fn returning an offset or a
    list of physical coordinates (flattened row-major over their observed extents)."""
    probe = fn(*([0] * len(shape)))
    if not isinstance(probe, (list, tuple)):
        return fn, 0
    if len(probe) == 1:
        return (lambda *i: fn(*i)[0]), 0
    outs = evaluate_table(lambda *i: tuple(fn(*i)), shape, len(probe))
    extents = [int(o.max()) + 1 for o in outs]

    def flat(*i):
        off = 0
        for c, e in zip(fn(*i), extents):
            off = off * e + c
        return off

    return flat, prod(extents)
