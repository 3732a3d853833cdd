"""Layouts as values: where tile elements live in shared memory (Layout) and across the
threads and registers of a block (Fragment). See docs/design-notes.md, "Layout values"."""
from .fragment import Fragment
from .layout import Layout
from .linear import BitMatrix
from .plans import broadcast, line_plan, parallel_plan, replicated_rows, with_unit_dim
from .shared import best_shared_layout, padded, row_major, stacked, swizzled
from .striped import Striped
from .compat import (make_full_bank_swizzled_layout, make_fully_replicated_layout_fragment,
                     make_half_bank_swizzled_layout, make_linear_layout, make_quarter_bank_swizzled_layout,
                     make_swizzled_layout, make_wgmma_swizzled_layout)

__all__ = ["Layout", "Fragment", "Striped", "BitMatrix", "row_major", "padded", "swizzled", "stacked",
           "best_shared_layout", "parallel_plan", "line_plan", "replicated_rows", "with_unit_dim", "broadcast",
           "make_swizzled_layout", "make_wgmma_swizzled_layout", "make_full_bank_swizzled_layout",
           "make_half_bank_swizzled_layout", "make_quarter_bank_swizzled_layout", "make_linear_layout",
           "make_fully_replicated_layout_fragment"]
