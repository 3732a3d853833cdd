"""Integer arithmetic on index expressions: simplification, bounds and variable ranges, divisibility."""
from .bounds import bounds, nonneg, upper
from .divisibility import divisible, vector_width
from .ranges import VarRanges
from .simplify import linear_form, merge_div_mod, simplify, split_div_mod

__all__ = ["simplify", "linear_form", "split_div_mod", "merge_div_mod", "bounds", "nonneg", "upper",
           "VarRanges", "divisible", "vector_width"]
