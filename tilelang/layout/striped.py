"""Striped: the loop plan used when no fragment decides how an iteration space maps onto threads.

Flat (row-major) iteration f of `shape` runs on thread f % num_threads as register
f // num_threads, so consecutive iterations go to consecutive threads (coalesced global
accesses). Unlike a Fragment the shape may be symbolic (T.dynamic extents): then `total`
and `num_registers` are expressions and the register loop is a strided one.
"""
from __future__ import annotations

from ..arith import simplify
from ..ir import expr as E
from .index import flatten


class Striped:
    """(index) -> (thread, register) = (f % num_threads, f // num_threads) for f the flat index."""

    replicate = 1

    def __init__(self, shape, num_threads: int):
        self.shape = tuple(int(s) if isinstance(s, (int, E.IntImm)) else s for s in shape)
        self.static = all(isinstance(s, int) for s in self.shape)
        total = 1
        for s in self.shape:
            total = total * s
        self.total = total if self.static else simplify(total)
        self.num_threads = num_threads
        self.num_registers = (-(-total // num_threads) if self.static
                              else simplify((total + num_threads - 1) // num_threads))

    def __repr__(self) -> str:
        return f"Striped({self.shape}, {self.num_threads} threads)"

    def thread(self, *index):
        return flatten(index, self.shape) % self.num_threads

    def register(self, *index):
        return flatten(index, self.shape) // self.num_threads

    def logical(self, thread, register) -> tuple:
        """The index thread `thread` runs as `register` (past the end when not `covers`)."""
        flat = register * self.num_threads + thread
        out = []
        for n, s in enumerate(reversed(self.shape)):
            last = n == len(self.shape) - 1  # the outermost index needs no modulo: flat < total
            out.append(flat if last else flat % s)
            flat = flat // s
        return tuple(reversed(out))

    def covers(self, thread, register):
        """Whether (thread, register) runs an iteration at all (the last round may be partial)."""
        return register * self.num_threads + thread < self.total

    def covers_exactly(self) -> bool:
        """Every thread runs every register: no guard needed."""
        return self.static and self.total % self.num_threads == 0
