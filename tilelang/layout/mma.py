"""Tensor-core (mma.sync m16n8kK) layouts for T.gemm on the sm_80 path.

The maps here are the Python side of `backend/cuda/include/tl_gemm.cuh`; both are written
from the same description (see the top of that header):

- warps are arranged warp_m x warp_n over the (M, N) tile, warp w = wm + wn * warp_m;
- the accumulator register (mi * NI + ni) * 4 + c of lane 4 g + t holds element
  (wm * WM + mi * 16 + g + 8 (c // 2), wn * WN + ni * 8 + 2 t + c % 2);
- a 16-bit A operand in registers holds element (wm * WM + mi * 16 + g + 8 (j // 2 % 2),
  ki * 16 + 2 t + j % 2 + 8 (j // 4)) in register (mi * KI + ki) * 8 + j, replicated over the
  warp_n warps of a row: register for register the accumulator of an (M, K) tile with
  warp_n = 1, so a float accumulator cast to half is an A operand (flash attention's P @ V);
- shared operands use `swizzled` (the widest XOR swizzle the row allows), which
  `tl::SmemLayout<rows, cols, swizzle_bytes>` computes in C++.
"""
from __future__ import annotations

from ..errors import LoweringError, TileLangValueError
from ..ir import expr as E
from ..ir.dtypes import as_dtype
from .fragment import Fragment
from .layout import Layout
from .shared import SWIZZLE_BYTES, row_major, stacked, swizzled

POLICIES = ("Square", "FullRow", "FullCol")
WARP_SIZE = 32


def mma_k(dtype) -> int:
    """k extent of one mma.sync atom for operands of `dtype` (tf32 for float32)."""
    bits = dtype.bits
    if dtype.is_float and bits == 16:
        return 16
    if dtype.is_int and bits == 8:
        return 32
    if dtype.is_float and bits == 32:
        return 8
    raise TileLangValueError(f"T.gemm on tensor cores has no mma.sync for {dtype} operands "
                             "(expected float16, bfloat16, int8, uint8 or float32)")


def gemm_warp_partition(policy: str, m: int, n: int, num_warps: int) -> tuple[int, int]:
    """(warp_m, warp_n) with warp_m * warp_n = num_warps for an (m, n) accumulator.

    FullRow puts as many warps as the rows allow along M (16 rows each), FullCol along N
    (8 columns each); Square picks the split whose per-warp tile is closest to square.
    Splits that do not divide the tile are skipped where another one does.
    """
    if policy not in POLICIES:
        raise TileLangValueError(f"unknown gemm warp policy {policy!r}; expected one of {POLICIES}")
    splits = [(wm, num_warps // wm) for wm in range(1, num_warps + 1) if num_warps % wm == 0]
    fits = [(wm, wn) for wm, wn in splits if m % (16 * wm) == 0 and n % (8 * wn) == 0]
    candidates = fits or splits
    if policy == "FullRow":
        return max(candidates, key=lambda s: s[0])
    if policy == "FullCol":
        return max(candidates, key=lambda s: s[1])
    return min(candidates, key=lambda s: (abs(m / s[0] - n / s[1]), -s[0]))


def _check_tile(m: int, n: int, warp_m: int, warp_n: int, what: str) -> None:
    if m % (16 * warp_m) or n % (8 * warp_n):
        raise TileLangValueError(
            f"{what} of shape ({m}, {n}) does not split over {warp_m} x {warp_n} warps of m16n8 mma atoms: "
            f"need {m} % {16 * warp_m} == 0 and {n} % {8 * warp_n} == 0")


def mma_accumulator(m: int, n: int, warp_m: int, warp_n: int, dtype_bits: int = 32) -> Fragment:
    """The accumulator fragment of an (m, n) tile over warp_m * warp_n warps (f32/i32/f16)."""
    _check_tile(m, n, warp_m, warp_n, "a gemm accumulator")
    if dtype_bits not in (16, 32):
        raise TileLangValueError(f"no mma accumulator of {dtype_bits}-bit elements")
    wm_size, wn_size = m // warp_m, n // warp_n
    ni_count = wn_size // 8

    def fn(i, j):
        wm, mi, r = i // wm_size, i % wm_size // 16, i % 16
        wn, ni, col = j // wn_size, j % wn_size // 8, j % 8
        thread = (wm + wn * warp_m) * WARP_SIZE + r % 8 * 4 + col // 2
        register = (mi * ni_count + ni) * 4 + r // 8 * 2 + col % 2
        return thread, register

    return Fragment((m, n), warp_m * warp_n * WARP_SIZE, fn, name=f"mma_acc[{warp_m}x{warp_n}]")


def mma_operand_a(m: int, k: int, warp_m: int, warp_n: int, dtype="float16") -> Fragment:
    """The A-operand fragment of an (m, k) 16-bit tile, replicated over the warp_n warps that
    share each row block."""
    if as_dtype(dtype).bits != 16:
        raise TileLangValueError(f"an A operand in registers must be a 16-bit type (float16, bfloat16), got {dtype}")
    _check_tile(m, k, warp_m, 1, "a gemm A operand")
    if k % 16:
        raise TileLangValueError(f"a gemm A operand in registers needs k % 16 == 0, got k = {k}")
    wm_size = m // warp_m
    ki_count = k // 16

    def fn(i, j):
        wm, mi, r = i // wm_size, i % wm_size // 16, i % 16
        ki, kk = j // 16, j % 16
        thread = wm * WARP_SIZE + r % 8 * 4 + kk % 8 // 2
        register = (mi * ki_count + ki) * 8 + kk // 8 * 4 + r // 8 * 2 + kk % 2
        return thread, register

    return Fragment((m, k), warp_m * warp_n * WARP_SIZE, fn, replicate=warp_n,
                    name=f"mma_a[{warp_m}x{warp_n}]")


def swizzle_bytes_for(cols: int, dtype_bits: int) -> int:
    """The widest XOR swizzle whose row divides a row of `cols` elements (0: row-major)."""
    row_bytes = cols * dtype_bits // 8
    if dtype_bits in (8, 16, 32):
        for sw in SWIZZLE_BYTES:
            if row_bytes % sw == 0:
                return sw
    return 0


def shared_operand_layout(shape, dtype_bits: int, swizzle_bytes: int | None = None) -> Layout:
    """Layout of a whole shared operand buffer (..., rows, cols): the 2-D tile swizzled (or
    row-major), stacked over leading dims (pipeline stages, unit dims)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise TileLangValueError(f"a gemm operand in shared memory needs 2 dimensions, got shape {shape}")
    sw = swizzle_bytes_for(shape[-1], dtype_bits) if swizzle_bytes is None else swizzle_bytes
    layout = swizzled(shape[-2:], dtype_bits, sw) if sw else row_major(shape[-2:])
    for n in reversed(shape[:-2]):
        layout = stacked(layout, n)
    return layout


def lift(fragment: Fragment, shape) -> Fragment:
    """`fragment` over a buffer of `shape` = fragment.shape with extra leading unit dims."""
    shape = tuple(int(s) for s in shape)
    if shape == fragment.shape:
        return fragment
    extra = len(shape) - len(fragment.shape)
    if extra < 0 or shape[extra:] != fragment.shape or any(s != 1 for s in shape[:extra]):
        raise TileLangValueError(f"a fragment of shape {fragment.shape} cannot cover a buffer of shape {shape}")
    inner = fragment._fn

    def fn(*index, rep=0):
        return inner(*index[extra:], rep=rep)

    return Fragment(shape, fragment.num_threads, fn, replicate=fragment.replicate,
                    num_registers=fragment.num_registers, name=fragment.name)


# ------------------------------------------------------------------------------ T.gemm
def _tile_extents(region, what: str, span) -> tuple[int, int]:
    """The (rows, cols) of an operand region: its last two extents, leading ones unit."""
    ext = []
    for e in region.extents:
        if not isinstance(e, E.IntImm):
            raise LoweringError(f"T.gemm: the {what} region {region!r} has a symbolic extent {e!r}", span)
        ext.append(e.value)
    if len(ext) < 2 or any(x != 1 for x in ext[:-2]):
        raise LoweringError(f"T.gemm: the {what} operand {region!r} must be a 2-D tile (leading extents 1), "
                            f"got extents {tuple(ext)}", span)
    return ext[-2], ext[-1]


def gemm_shape(op) -> tuple[int, int, int]:
    """(M, N, K) of a Gemm op, checking that the operand tiles agree."""
    span = op.span
    ar, ac = _tile_extents(op.a, "A", span)
    br, bc = _tile_extents(op.b, "B", span)
    cr, cc = _tile_extents(op.c, "C", span)
    m, k = (ac, ar) if op.transpose_a else (ar, ac)
    kb, n = (bc, br) if op.transpose_b else (br, bc)
    if k != kb or (m, n) != (cr, cc):
        raise LoweringError(
            f"T.gemm: operand shapes do not match: op(A) is ({m}, {k}), op(B) is ({kb}, {n}), C is ({cr}, {cc})", span)
    return m, n, k


def gemm_config(op, num_threads: int) -> tuple[int, int, int, int, int]:
    """(M, N, K, warp_m, warp_n) for a Gemm op on `num_threads` threads, with clear errors."""
    span = op.span
    m, n, k = gemm_shape(op)
    if num_threads % WARP_SIZE:
        raise LoweringError(f"T.gemm needs a whole number of warps; the block has {num_threads} threads", span)
    warp_m, warp_n = gemm_warp_partition(op.policy, m, n, num_threads // WARP_SIZE)
    if m % (16 * warp_m) or n % (8 * warp_n):
        raise LoweringError(
            f"T.gemm: a ({m}, {n}) accumulator does not split over {num_threads // WARP_SIZE} warps with policy "
            f"{op.policy} (chose {warp_m} x {warp_n}): M must be a multiple of 16 * warp_m = {16 * warp_m} and "
            f"N of 8 * warp_n = {8 * warp_n}; use a tile of such a shape or fewer threads", span)
    try:
        atom_k = mma_k(op.a.buffer.dtype)
    except TileLangValueError as e:
        raise LoweringError(e.message, span) from None
    if op.a.buffer.dtype.bits != op.b.buffer.dtype.bits:
        raise LoweringError(f"T.gemm: A is {op.a.buffer.dtype} but B is {op.b.buffer.dtype}; cast one first", span)
    if k % atom_k:
        raise LoweringError(f"T.gemm: K = {k} must be a multiple of {atom_k} for {op.a.buffer.dtype} operands", span)
    return m, n, k, warp_m, warp_n


def _is_fragment(buffer) -> bool:
    return buffer.memory_scope in ("local.fragment", "local")


def gemm_layouts(op, num_threads: int, arch: str = "sm_80") -> dict:
    """The layouts a T.gemm fixes: the accumulator C, A when A is a fragment, and the shared
    operands (swizzled for conflict-free ldmatrix), each over its whole buffer shape."""
    span = op.span
    m, n, k, warp_m, warp_n = gemm_config(op, num_threads)
    c_buf = op.c.buffer
    if not _is_fragment(c_buf):
        raise LoweringError(f"T.gemm: the accumulator {c_buf.name} must be a fragment (T.alloc_fragment), "
                            f"it is {c_buf.memory_scope}", span)
    if c_buf.dtype.bits not in (16, 32):
        raise LoweringError(f"T.gemm: no tensor-core accumulator of type {c_buf.dtype}", span)
    out = {c_buf: lift(mma_accumulator(m, n, warp_m, warp_n, c_buf.dtype.bits), c_buf.static_shape())}
    for which, region in (("A", op.a), ("B", op.b)):
        buf = region.buffer
        if _is_fragment(buf):
            if which == "B" or op.transpose_a:
                raise LoweringError(f"T.gemm: {which} = {buf.name} in registers is supported only for A, "
                                    "not transposed (A from a fragment, B from shared memory)", span)
            try:
                frag = mma_operand_a(m, k, warp_m, warp_n, buf.dtype)
            except TileLangValueError as e:
                raise LoweringError(f"T.gemm: {e.message}", span) from None
            out[buf] = lift(frag, buf.static_shape())
        elif buf.memory_scope in ("shared", "shared.dyn"):
            out[buf] = shared_operand_layout(buf.static_shape(), buf.dtype.bits)
        else:
            raise LoweringError(f"T.gemm: operand {which} = {buf.name} is in {buf.memory_scope} memory; "
                                "copy it to shared memory (T.alloc_shared) or a fragment first", span)
    return out
