"""Tensor-core layouts for T.gemm: mma.sync m16n8kK (sm_80 path) and wgmma m64nNk16 (sm_90a).

The maps here are the Python side of `backend/cuda/include/tl_gemm.cuh`; both are written
from the same description (see the top of that header):

- warps are arranged warp_m x warp_n over the (M, N) tile, warp w = wm + wn * warp_m;
- the accumulator register (mi * NI + ni) * 4 + c of lane 4 g + t holds element
  (wm * WM + mi * 16 + g + 8 (c // 2), wn * WN + ni * 8 + 2 t + c % 2);
- a 16-bit A operand in registers holds element (wm * WM + mi * 16 + g + 8 (j // 2 % 2),
  ki * 16 + 2 t + j % 2 + 8 (j // 4)) in register (mi * KI + ki) * 8 + j, replicated over the
  warp_n warps of a row: register for register the accumulator of an (M, K) tile with
  warp_n = 1, so a float accumulator cast to half is an A operand (flash attention's P @ V);
- shared operands use `swizzled` (the widest XOR swizzle the row allows), which the
  header's shared-layout template (rows, cols, swizzle bytes) computes on the device too.

Values only: the C++ spelling of what is decided here lives in backend/cuda (lower/gemm.py).
"""
from __future__ import annotations

import numpy as np

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


def _check_atoms(frag: Fragment, atom_rows: int, atom_cols: int, per_lane, bases: np.ndarray, what: str,
                 warp_m: int) -> None:
    """Every element of every atom sits where `bases` and the PTX lane pattern put it, in warp
    wm + wn * warp_m of its (row, column) block: per_lane(r, c) -> (lane, register offset)
    inside an atom; raises if the fragment disagrees."""
    threads, registers = (np.asarray(x) for x in frag.table())
    m, n = frag.shape
    r, c = np.indices((m, n))
    lane, offset = per_lane(r % atom_rows, c % atom_cols)
    rows_per_warp, cols_per_warp = bases.shape[1] * atom_rows, bases.shape[2] * atom_cols
    warp = r // rows_per_warp + c // cols_per_warp * warp_m
    atom = bases[warp, r % rows_per_warp // atom_rows, c % cols_per_warp // atom_cols]
    if not (np.array_equal(threads, warp * WARP_SIZE + lane) and np.array_equal(registers, atom + offset)):
        raise TileLangValueError(f"{what}: the fragment {frag!r} does not follow the mma lane pattern")


def mma_accumulator_atoms(m: int, n: int, warp_m: int, warp_n: int, dtype_bits: int = 32) -> tuple[int, ...]:
    """The register of each m16n8 atom's first element in the accumulator, (mi, ni) mi-major
    (the same in every warp); the PTX pattern adds register c (row g + 8 (c // 2), column
    2 t + c % 2 for lane 4 g + t). Checked against the whole fragment."""
    frag = mma_accumulator(m, n, warp_m, warp_n, dtype_bits)
    mi_count, ni_count = m // warp_m // 16, n // warp_n // 8
    threads, registers = (np.asarray(x) for x in frag.table())
    bases = np.zeros((warp_m * warp_n, mi_count, ni_count), dtype=np.int64)
    for w in range(warp_m * warp_n):
        wm, wn = w % warp_m, w // warp_m
        for mi in range(mi_count):
            for ni in range(ni_count):
                bases[w, mi, ni] = registers[wm * (m // warp_m) + mi * 16, wn * (n // warp_n) + ni * 8]
    if (bases != bases[:1]).any():
        raise TileLangValueError(f"the accumulator {frag!r} orders its atoms differently in different warps")
    _check_atoms(frag, 16, 8, lambda r, c: (r % 8 * 4 + c // 2, r // 8 * 2 + c % 2), bases, "accumulator",
                 warp_m)
    return tuple(int(x) for x in bases[0].reshape(-1))


def mma_operand_a_atoms(m: int, k: int, warp_m: int, warp_n: int, dtype="float16") -> tuple[int, ...]:
    """The 32-bit word holding each m16k16 atom's first element in an A operand in registers,
    (mi, ki) mi-major; the PTX pattern adds word j (row g + 8 (j % 2), columns 2 t + 8 (j // 2)
    and the next, low half first). Checked against the whole fragment."""
    frag = mma_operand_a(m, k, warp_m, warp_n, dtype)
    mi_count, ki_count = m // warp_m // 16, k // 16
    registers = np.asarray(frag.table()[1])
    bases = np.zeros((warp_m * warp_n, mi_count, ki_count), dtype=np.int64)
    for w in range(warp_m * warp_n):
        for mi in range(mi_count):
            for ki in range(ki_count):
                bases[w, mi, ki] = registers[w % warp_m * (m // warp_m) + mi * 16, ki * 16]
    words = bases // 2
    if (bases % 2).any() or (words != words[:1]).any():
        raise TileLangValueError(f"the A operand {frag!r} does not start its atoms on whole words")
    primary = Fragment(frag.shape, warp_m * WARP_SIZE, frag._fn, num_registers=frag.num_registers)
    _check_atoms(primary, 16, 16, lambda r, c: (r % 8 * 4 + c % 8 // 2, (c // 8 * 2 + r // 8) * 2 + c % 2),
                 bases[:warp_m], "A operand", warp_m)
    return tuple(int(x) for x in words[0].reshape(-1))


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


def gemm_layouts(op, num_threads: int, target) -> dict:
    """The layouts a T.gemm fixes: the accumulator C, A when A is a fragment, and the shared
    operands (swizzled for conflict-free ldmatrix / wgmma descriptors), each over its whole
    buffer shape. On sm_90a, tiles wgmma can take get the warpgroup layouts (`wgmma_plan`)."""
    plan = wgmma_plan(op, num_threads, target)
    if plan is not None:
        return wgmma_layouts(op, plan)
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


# ------------------------------------------------------------------------------ wgmma (sm_90a)
# wgmma.mma_async m64nNk16 runs on a warpgroup (4 consecutive warps, 128 threads). Warpgroups
# are arranged wg_m x wg_n over the (M, N) tile, g = gm + gn * wg_m, each computing
# (M / wg_m) x (N / wg_n) as 64-row atoms times instructions of n_width columns:
# - accumulator: warp w of a warpgroup holds rows 16 w .. 16 w + 15 of each 64-row atom, each
#   8-column chunk in the mma.sync m16n8 C layout; register mi * (NW / 2) + col / 8 * 4 +
#   (row % 16 >= 8) * 2 + col % 2 (NW = N / wg_n, col and row inside the warpgroup's tile);
# - an A operand in registers (16-bit, (M, K)) is the accumulator layout of an (M, K) tile with
#   wg_n = 1, replicated over wg_n: a float accumulator cast to half feeds the next wgmma;
# - shared operands are read through matrix descriptors ("Matrix Descriptor Format", "Shared
#   Memory Matrix Layout" in the PTX ISA) from the XOR-swizzled layout; `wgmma_operand` derives
#   each descriptor from the Layout and checks it against the layout's table.
WARPGROUP = 128
WGMMA_MAX_N = 256
_DESC_SWIZZLE_MODE = {128: 1, 64: 2, 32: 3}


def wgmma_partition(policy: str, m: int, n: int, num_warpgroups: int) -> tuple[int, int] | None:
    """(wg_m, wg_n) for an (m, n) accumulator, or None when no split gives every warpgroup
    whole 64-row atoms and a multiple of 8 columns. FullRow splits M first, FullCol N first,
    Square picks the per-warpgroup tile closest to square (ties: more along M)."""
    if policy not in POLICIES:
        raise TileLangValueError(f"unknown gemm warp policy {policy!r}; expected one of {POLICIES}")
    fits = [(gm, num_warpgroups // gm) for gm in range(1, num_warpgroups + 1)
            if num_warpgroups % gm == 0 and m % (64 * gm) == 0 and n % (8 * (num_warpgroups // gm)) == 0]
    if not fits:
        return None
    if policy == "FullRow":
        return max(fits, key=lambda s: s[0])
    if policy == "FullCol":
        return max(fits, key=lambda s: s[1])
    return min(fits, key=lambda s: (abs(m / s[0] - n / s[1]), -s[0]))


def wgmma_n_width(n_per_warpgroup: int) -> int:
    """N of one wgmma instruction: the widest multiple of 8 up to 256 dividing the
    warpgroup's columns."""
    return max(w for w in range(8, min(n_per_warpgroup, WGMMA_MAX_N) + 1, 8) if n_per_warpgroup % w == 0)


def wgmma_accumulator(m: int, n: int, wg_m: int, wg_n: int) -> Fragment:
    """The f32 accumulator fragment of an (m, n) tile over wg_m * wg_n warpgroups."""
    if m % (64 * wg_m) or n % (8 * wg_n):
        raise TileLangValueError(f"a wgmma accumulator of shape ({m}, {n}) does not split over {wg_m} x {wg_n} "
                                 f"warpgroups: need {m} % {64 * wg_m} == 0 and {n} % {8 * wg_n} == 0")
    m_wg, n_wg = m // wg_m, n // wg_n

    def fn(i, j):
        gm, ii = i // m_wg, i % m_wg
        gn, jj = j // n_wg, j % n_wg
        r = ii % 64
        thread = (gm + gn * wg_m) * WARPGROUP + r // 16 * WARP_SIZE + r % 8 * 4 + jj % 8 // 2
        register = ii // 64 * (n_wg // 2) + jj // 8 * 4 + r % 16 // 8 * 2 + jj % 2
        return thread, register

    return Fragment((m, n), wg_m * wg_n * WARPGROUP, fn, _wgmma_inverse(m_wg, n_wg, wg_m),
                    name=f"wgmma_acc[{wg_m}x{wg_n}]")


def _wgmma_inverse(m_wg: int, n_wg: int, wg_m: int):
    """(thread, register) -> (row, col) of the accumulator layout (warpgroups beyond wg_m *
    wg_n are the replicas of an A operand: the same rows)."""
    def inverse(thread, register):
        g, t = thread // WARPGROUP, thread % WARPGROUP
        warp, lane = t // WARP_SIZE, t % WARP_SIZE
        mi, rr = register // (n_wg // 2), register % (n_wg // 2)
        c = rr % 4
        row = g % wg_m * m_wg + mi * 64 + warp * 16 + lane // 4 + c // 2 * 8
        col = g // wg_m * n_wg + rr // 4 * 8 + lane % 4 * 2 + c % 2
        return row, col

    return inverse


def wgmma_operand_a(m: int, k: int, wg_m: int, wg_n: int, dtype="float16") -> Fragment:
    """The A operand in registers of an (m, k) 16-bit tile: the accumulator layout of an
    (m, k) tile on wg_m warpgroups, replicated over the wg_n warpgroups sharing its rows."""
    if as_dtype(dtype).bits != 16:
        raise TileLangValueError(f"an A operand in registers must be a 16-bit type (float16, bfloat16), got {dtype}")
    if k % 16:
        raise TileLangValueError(f"a gemm A operand in registers needs k % 16 == 0, got k = {k}")
    inner = wgmma_accumulator(m, k, wg_m, 1)._fn
    to_logical = _wgmma_inverse(m // wg_m, k, wg_m)

    def fn(i, j):
        return inner(i, j)

    def inverse(thread, register):
        return to_logical(thread % (wg_m * WARPGROUP), register)

    return Fragment((m, k), wg_m * wg_n * WARPGROUP, fn, inverse, replicate=wg_n, name=f"wgmma_a[{wg_m}x{wg_n}]")


def wgmma_decode(start: int, lbo: int, sbo: int, swizzle_bytes: int, mn_major: bool, mn: int,
                 elem_bytes: int = 2) -> np.ndarray:
    """Byte addresses wgmma reads for an (mn, 16) operand (rows of A / columns of B by k)
    from a descriptor, per the PTX ISA's canonical swizzled layouts in 16-byte units T:
    K-major ((8, m), (T, 2)) : ((W, SBO), (1, T)); MN-major ((T, W / T, m), (8, k)) :
    ((1, T, LBO), (W, SBO)); W the swizzle width; then the swizzle on address bits
    [4, 4 + s) ^= [7, 7 + s)."""
    i, k = np.indices((mn, 16))
    if mn_major:
        atom = swizzle_bytes // elem_bytes
        addr = start + i // atom * lbo + i % atom * elem_bytes + k % 8 * swizzle_bytes + k // 8 * sbo
    else:
        addr = start + i // 8 * sbo + i % 8 * swizzle_bytes + k * elem_bytes
    mask = (swizzle_bytes // 16 - 1) << 4
    return addr ^ ((addr >> 3) & mask)


class WgmmaOperand:
    """Descriptor data of one shared operand: swizzle width, LBO, SBO, the stride between mn
    sub-tiles and the offset of each k16 step (bytes from the tile's first element): sub-tile
    (i, j) starts at i * mn_stride + k_offsets[j]."""

    def __init__(self, swizzle_bytes, lbo, sbo, mn_stride, k_offsets):
        self.swizzle_bytes, self.lbo, self.sbo = swizzle_bytes, lbo, sbo
        self.mn_stride, self.k_offsets = mn_stride, tuple(k_offsets)

    def start(self, i: int, j: int) -> int:
        return i * self.mn_stride + self.k_offsets[j]

    @property
    def swizzle_mode(self) -> int:
        """The descriptor's layout-type field for this swizzle (PTX: 1 = 128B, 2 = 64B, 3 = 32B)."""
        return _DESC_SWIZZLE_MODE[self.swizzle_bytes]


def wgmma_operand(layout: Layout, elem_bytes: int, mn_major: bool, mn_width: int) -> WgmmaOperand | None:
    """The descriptors reading a 2-D shared tile (K-major: (MN, K) rows; MN-major: (K, MN))
    in sub-tiles of mn_width x 16, or None when the layout is no swizzle wgmma reads or a
    decoded descriptor misses an element."""
    rows, cols = layout.shape
    sw = next((s for s in SWIZZLE_BYTES if (cols * elem_bytes) % s == 0
               and layout.is_equal(swizzled((rows, cols), elem_bytes * 8, s))), None)
    if sw is None:
        return None
    mn, k = (cols, rows) if mn_major else (rows, cols)
    if mn % mn_width or k % 16 or (mn_major and (mn_width * elem_bytes) % sw):
        return None
    table = layout.table() * elem_bytes
    at = (lambda i, j: int(table[j, i])) if mn_major else (lambda i, j: int(table[i, j]))
    mn_stride = at(mn_width, 0) if mn > mn_width else 0
    k_offsets = [at(0, j) for j in range(0, k, 16)]
    if mn_major:
        lbo = at(sw // elem_bytes, 0) if mn * elem_bytes > sw else 16   # the next swizzle atom along MN
        sbo = at(0, 8)
    else:
        lbo, sbo = 16, at(8, 0)
    for a, i in enumerate(range(0, mn, mn_width)):
        for b, j in enumerate(range(0, k, 16)):
            want = table[j:j + 16, i:i + mn_width].T if mn_major else table[i:i + mn_width, j:j + 16]
            got = wgmma_decode(a * mn_stride + k_offsets[b], lbo, sbo, sw, mn_major, mn_width, elem_bytes)
            if not np.array_equal(got, want):
                return None
    if max(lbo, sbo) >= 1 << 18:
        return None
    return WgmmaOperand(sw, lbo, sbo, mn_stride, k_offsets)


class WgmmaPlan:
    """How a T.gemm runs on wgmma: (M, N, K), warpgroups wg_m x wg_n, instruction n_width,
    and the swizzle each shared operand is stored with."""

    def __init__(self, m, n, k, wg_m, wg_n, n_width, swizzle_a, swizzle_b):
        self.m, self.n, self.k = m, n, k
        self.wg_m, self.wg_n, self.n_width = wg_m, wg_n, n_width
        self.swizzle_a, self.swizzle_b = swizzle_a, swizzle_b


def _wgmma_swizzle(cols: int, elem_bytes: int, mn_major: bool, mn_width: int) -> int:
    """The widest swizzle of a row of `cols`; an MN-major operand's atom must also divide
    the instruction's MN extent."""
    for sw in SWIZZLE_BYTES:
        if (cols * elem_bytes) % sw == 0 and (not mn_major or (mn_width * elem_bytes) % sw == 0):
            return sw
    return 0


def wgmma_plan(op, num_threads: int, target) -> WgmmaPlan | None:
    """The wgmma plan for a Gemm op, or None where it stays on mma.sync: no warpgroup MMA on the
    target (a TargetDescription), not whole warpgroups, not f16/bf16 -> f32, a tile the
    warpgroups cannot split, or shared tiles whose rows are narrower than 32 bytes."""
    if not target.warpgroup_mma or num_threads % WARPGROUP:
        return None
    a, b, c = op.a.buffer, op.b.buffer, op.c.buffer
    if a.dtype.name not in ("float16", "bfloat16") or b.dtype != a.dtype or c.dtype.name != "float32":
        return None
    if not _is_fragment(c) or b.memory_scope not in ("shared", "shared.dyn"):
        return None
    a_frag = _is_fragment(a)
    if not a_frag and a.memory_scope not in ("shared", "shared.dyn"):
        return None
    if a_frag and op.transpose_a:
        return None
    try:
        m, n, k = gemm_shape(op)
    except LoweringError:
        return None
    if k % 16:
        return None
    part = wgmma_partition(op.policy, m, n, num_threads // WARPGROUP)
    if part is None:
        return None
    wg_m, wg_n = part
    n_width = wgmma_n_width(n // wg_n)
    swizzles = []
    for buf, mn_major, mn_width in ((a, op.transpose_a, 64), (b, not op.transpose_b, n_width)):
        if _is_fragment(buf):
            swizzles.append(0)
            continue
        shape = buf.static_shape()
        sw = _wgmma_swizzle(shape[-1], 2, mn_major, mn_width)
        # the swizzle is read off address bits: every stage's tile must start on its period
        # (8 rows of sw bytes), and the buffer 1024-byte aligned (plan_shared_memory: >= 1 KiB)
        if not sw or (shape[-2] * shape[-1] * 2) % (8 * sw) or int(np.prod(shape)) * 2 < 1024:
            return None
        layout = shared_operand_layout(shape[-2:], 16, sw)
        if wgmma_operand(layout, 2, mn_major, mn_width) is None:
            return None
        swizzles.append(sw)
    return WgmmaPlan(m, n, k, wg_m, wg_n, n_width, *swizzles)


def wgmma_layouts(op, plan: WgmmaPlan) -> dict:
    """gemm_layouts for a wgmma plan."""
    c = op.c.buffer
    out = {c: lift(wgmma_accumulator(plan.m, plan.n, plan.wg_m, plan.wg_n), c.static_shape())}
    a, b = op.a.buffer, op.b.buffer
    if _is_fragment(a):
        out[a] = lift(wgmma_operand_a(plan.m, plan.k, plan.wg_m, plan.wg_n, a.dtype), a.static_shape())
    else:
        out[a] = shared_operand_layout(a.static_shape(), 16, plan.swizzle_a)
    out[b] = shared_operand_layout(b.static_shape(), 16, plan.swizzle_b)
    return out
