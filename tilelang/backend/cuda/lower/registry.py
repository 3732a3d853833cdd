"""LOWERINGS: tile-op class -> its CUDA lowering `fn(op, ctx) -> Stmt` (one module per op)."""
from __future__ import annotations

LOWERINGS: dict = {}


def lowering(cls):
    """Register the decorated function as the lowering of tile ops of class `cls`."""
    def register(fn):
        LOWERINGS[cls] = fn
        return fn

    return register
