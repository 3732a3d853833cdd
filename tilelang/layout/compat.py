"""The reference TileLang's layout helpers (`make_*_layout(buffer)`), for programs that call
them in T.annotate_layout: thin wrappers over our constructors, keyed by a buffer."""
from __future__ import annotations

from ..errors import TileLangTypeError
from .fragment import Fragment
from .layout import Layout
from .plans import broadcast
from .shared import best_shared_layout, row_major, swizzled


def _shape_bits(buffer) -> tuple:
    buf = getattr(buffer, "buffer", buffer)  # a BufferRegion / BufferLoad names its buffer
    if not hasattr(buf, "static_shape"):
        raise TileLangTypeError(f"expected a buffer, got {buffer!r}")
    return buf.static_shape(), buf.dtype.bits


def make_swizzled_layout(buffer, k_major: bool = True, allow_pad: bool = True, swizzle_bytes: int | None = None) -> Layout:
    """The widest XOR swizzle the rows allow (row-major when none fits)."""
    shape, bits = _shape_bits(buffer)
    return swizzled(shape, bits, swizzle_bytes) if swizzle_bytes else best_shared_layout(shape, bits)


def make_wgmma_swizzled_layout(buffer, continuity: int | None = None, k_major: bool = True) -> Layout:
    return make_swizzled_layout(buffer)


def make_full_bank_swizzled_layout(buffer) -> Layout:
    return make_swizzled_layout(buffer, swizzle_bytes=128)


def make_half_bank_swizzled_layout(buffer) -> Layout:
    return make_swizzled_layout(buffer, swizzle_bytes=64)


def make_quarter_bank_swizzled_layout(buffer) -> Layout:
    return make_swizzled_layout(buffer, swizzle_bytes=32)


def make_linear_layout(buffer) -> Layout:
    return row_major(_shape_bits(buffer)[0])


def make_fully_replicated_layout_fragment(buffer, threads: int) -> Fragment:
    """Every thread holds the whole tile."""
    return broadcast(_shape_bits(buffer)[0], int(threads))
