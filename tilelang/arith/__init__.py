"""Integer arithmetic on index expressions: simplification, bounds and proofs."""
from .simplify import simplify

__all__ = ["simplify"]
