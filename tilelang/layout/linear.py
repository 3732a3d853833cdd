"""Linear maps over GF(2) on the bits of an index.

Power-of-two tiles, XOR swizzles and MMA lane maps are all of the form
`out = XOR of cols[i] for each set bit i of in`. Holding them as bit matrices makes inverse,
composition and "which input bits move which output bits" exact algebra instead of search.
A matrix is stored by columns: `cols[i]` is the image of input bit `i` (an int bit set).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..ir import expr as E


def log2_exact(n: int) -> int | None:
    """log2(n) when n is a positive power of two, else None."""
    if isinstance(n, int) and n > 0 and n & (n - 1) == 0:
        return n.bit_length() - 1
    return None


@dataclasses.dataclass(frozen=True)
class BitMatrix:
    """A linear map from `n_in`-bit to `n_out`-bit vectors over GF(2)."""

    n_in: int
    n_out: int
    cols: tuple  # cols[i]: image of input bit i

    @staticmethod
    def identity(n: int) -> "BitMatrix":
        return BitMatrix(n, n, tuple(1 << i for i in range(n)))

    @staticmethod
    def probe(fn, n_in: int, n_out: int) -> "BitMatrix":
        """The matrix a (presumed linear) int function has on the unit vectors."""
        return BitMatrix(n_in, n_out, tuple(int(fn(1 << i)) for i in range(n_in)))

    def apply(self, x: int) -> int:
        out = 0
        i = 0
        while x:
            if x & 1:
                out ^= self.cols[i]
            x >>= 1
            i += 1
        return out

    def apply_array(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        out = np.zeros_like(x)
        for i, c in enumerate(self.cols):
            out ^= ((x >> i) & 1) * c
        return out

    def all_images(self) -> np.ndarray:
        """Image of every input 0 .. 2**n_in - 1 (used to verify a probed matrix)."""
        return self.apply_array(np.arange(1 << self.n_in, dtype=np.int64))

    def compose(self, inner: "BitMatrix") -> "BitMatrix":
        """self ∘ inner."""
        if inner.n_out != self.n_in:
            raise ValueError(f"cannot compose a {self.n_in}-bit map after a {inner.n_out}-bit map")
        return BitMatrix(inner.n_in, self.n_out, tuple(self.apply(c) for c in inner.cols))

    def rows(self) -> list:
        """rows[j]: bit set of the input bits that feed output bit j."""
        return [sum(1 << i for i, c in enumerate(self.cols) if c >> j & 1) for j in range(self.n_out)]

    def rank(self) -> int:
        return len(_echelon(list(self.cols)))

    def inverse(self) -> "BitMatrix":
        """The inverse of a square invertible matrix (ValueError otherwise)."""
        n = self.n_in
        if self.n_out != n:
            raise ValueError(f"a {n}-bit to {self.n_out}-bit map has no inverse")
        # Gauss-Jordan on rows [A | I] where A's rows are output bits.
        rows = [(r, 1 << j) for j, r in enumerate(self.rows())]
        for col in range(n):
            pivot = next((k for k in range(col, n) if rows[k][0] >> col & 1), None)
            if pivot is None:
                raise ValueError("the bit map is singular (not a bijection)")
            rows[col], rows[pivot] = rows[pivot], rows[col]
            for k in range(n):
                if k != col and rows[k][0] >> col & 1:
                    rows[k] = (rows[k][0] ^ rows[col][0], rows[k][1] ^ rows[col][1])
        # Row `col` now says: input bit col = XOR of the output bits in rows[col][1].
        inv_rows = [rows[i][1] for i in range(n)]
        cols = tuple(sum(1 << i for i in range(n) if inv_rows[i] >> j & 1) for j in range(n))
        return BitMatrix(n, n, cols)

    def to_expr(self, x):
        """`self.apply(x)` as shifts, masks and XORs of an integer expression `x`.

        Input bits that move by the same shift are grouped into one `(x & mask) << s` term,
        so a row-major map is `x`, and a swizzle is `x ^ ((x & m) >> s)`.
        """
        by_shift: dict = {}
        for i, c in enumerate(self.cols):
            j = 0
            while c:
                if c & 1:
                    by_shift.setdefault(j - i, []).append(i)
                c >>= 1
                j += 1
        full = (1 << self.n_in) - 1
        terms = []
        for shift in sorted(by_shift, key=lambda s: (s != 0, abs(s))):
            mask = sum(1 << i for i in by_shift[shift])
            term = x if mask == full else x & mask
            if shift > 0:
                term = term << shift
            elif shift < 0:
                term = term >> -shift
            terms.append((mask, shift, term))
        if not terms:
            return 0 if isinstance(x, int) else E.const(0, x.dtype)
        out = terms[0][2]
        used = _shifted(terms[0][0], terms[0][1])
        for mask, shift, term in terms[1:]:
            bits = _shifted(mask, shift)
            # disjoint output bits add; overlapping ones are a true XOR
            out = out + term if used & bits == 0 else out ^ term
            used |= bits
        return out


def _shifted(mask: int, shift: int) -> int:
    return mask << shift if shift >= 0 else mask >> -shift


def _echelon(vectors: list) -> list:
    """A basis (reduced by leading bit) of the span of `vectors`."""
    basis: list = []
    for v in vectors:
        for b in basis:
            v = min(v, v ^ b)
        if v:
            basis.append(v)
            basis.sort(reverse=True)
    return basis


def reduce_by(v: int, basis: list) -> int:
    """The canonical representative of `v` modulo the span of `basis` (from _echelon)."""
    for b in sorted(basis, reverse=True):
        v = min(v, v ^ b)
    return v


def span_basis(vectors) -> list:
    """The reduced echelon basis of the span of `vectors` (no vector has another's leading
    bit), lowest leading bit first, so unit vectors come out in bit order."""
    basis = _echelon([int(v) for v in vectors])  # highest first
    for k in range(len(basis)):
        for j in range(k):  # clear basis[k]'s leading bit from the higher vectors
            top = basis[k].bit_length() - 1
            if basis[j] >> top & 1:
                basis[j] ^= basis[k]
    return sorted(basis)
