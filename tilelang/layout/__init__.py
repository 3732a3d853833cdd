"""Layouts as values: where tile elements live in shared memory (Layout) and across the
threads and registers of a block (Fragment). See docs/design-notes.md, "Layout values"."""
from .fragment import Fragment
from .layout import Layout
from .linear import BitMatrix
from .plans import line_plan, parallel_plan, replicated_rows
from .shared import best_shared_layout, padded, row_major, stacked, swizzled


def make_swizzled_layout(buffer, swizzle_bytes: int | None = None) -> Layout:
    """The reference TileLang spelling for T.annotate_layout: the best swizzle for a shared buffer."""
    shape = buffer.static_shape()
    bits = buffer.dtype.bits
    if swizzle_bytes is None:
        return best_shared_layout(shape, bits)
    return swizzled(shape, bits, swizzle_bytes)


__all__ = ["Layout", "Fragment", "BitMatrix", "row_major", "padded", "swizzled", "stacked",
           "best_shared_layout", "make_swizzled_layout", "parallel_plan", "line_plan", "replicated_rows"]
