"""Integer arithmetic on index expressions: simplification, bounds and divisibility."""
from .bounds import bounds, nonneg, upper
from .divisibility import divisible
from .simplify import linear_form, merge_div_mod, simplify, split_div_mod

__all__ = ["simplify", "linear_form", "split_div_mod", "merge_div_mod", "bounds", "nonneg", "upper", "divisible"]
