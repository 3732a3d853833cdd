"""Pictures of layouts: which thread and register hold each element of a Fragment, and which
shared-memory bank each element of a Layout falls in (to see a swizzle at work).

matplotlib is imported only when a picture is drawn.
"""
from __future__ import annotations

import os

import numpy as np
from ..layout.mma import mma_accumulator
from ..layout import swizzled
from ..layout import parallel_plan

# Beyond this many cells per side the per-cell text is unreadable; draw colours only.
_MAX_TEXT_CELLS = 64
NUM_BANKS = 32


def _as_2d(table: np.ndarray) -> np.ndarray:
    """Rows x columns: 1-D tables become one row, leading dimensions fold into the rows."""
    table = np.asarray(table)
    if table.ndim == 1:
        return table.reshape(1, -1)
    return table.reshape(-1, table.shape[-1])


def is_fragment(layout) -> bool:
    return hasattr(layout, "num_threads") and hasattr(layout, "table")


def fragment_tables(fragment) -> tuple:
    """(threads, registers) as 2-D arrays (replica 0 when the fragment is replicated)."""
    threads, registers = fragment.table()
    return _as_2d(threads), _as_2d(registers)


def bank_table(layout, dtype_bits: int = 16) -> np.ndarray:
    """The 4-byte shared-memory bank of every element: (offset * bits / 32) % 32, as a 2-D array."""
    offsets = _as_2d(layout.table()).astype(np.int64)
    return (offsets * dtype_bits // 32) % NUM_BANKS


def _output_paths(save_directory, name, formats, path) -> list:
    if path is not None:
        return [os.fspath(path)]
    if isinstance(formats, str):
        formats = ["png", "pdf", "svg"] if formats == "all" else [f.strip() for f in formats.split(",") if f.strip()]
    return [os.path.join(os.fspath(save_directory), f"{name}.{fmt}") for fmt in formats]


def plot_layout(layout, save_directory: str = "./tmp", name: str = "layout", colormap: str | None = None,
                verbose: bool = False, formats="png", path=None, dtype_bits: int = 16, title: str | None = None):
    """Draw a Fragment (each element's thread T{t} and register R{r}, coloured by thread) or a
    shared Layout (each element's bank, coloured by bank) and save it.

    The picture goes to `path` when given, else to `save_directory/name.<fmt>` for each of
    `formats` ("png", "pdf", "svg", a comma-separated list or "all"). `dtype_bits` is the element
    width used to compute banks of a Layout. Returns the written path (a list for several formats).
    """
    import matplotlib

    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if is_fragment(layout):
        threads, registers = fragment_tables(layout)
        values, n_colors = threads, max(int(layout.num_threads), 1)
        texts = np.char.add(np.char.add("T", threads.astype(str)), np.char.add("\nR", registers.astype(str)))
        rep = getattr(layout, "replicate", 1)
        default_title = (f"{name}: {tuple(layout.shape)} over {layout.num_threads} threads, "
                         f"{getattr(layout, 'num_registers', int(registers.max()) + 1)} registers each"
                         + (f", each element on {rep} threads (replica 0 shown)" if rep > 1 else ""))
        cmap_name = colormap or "tab20"
    else:
        values = bank_table(layout, dtype_bits)
        n_colors = NUM_BANKS
        texts = values.astype(str)
        default_title = f"{name}: {tuple(layout.shape)}, {dtype_bits}-bit elements, shared-memory bank of each element"
        cmap_name = colormap or "hsv"

    rows, cols = values.shape
    cmap = plt.get_cmap(cmap_name)
    qualitative = getattr(cmap, "N", 256) < 64
    norm = (values % cmap.N) / max(cmap.N - 1, 1) if qualitative else values / max(n_colors - 1, 1)
    show_text = rows <= _MAX_TEXT_CELLS and cols <= _MAX_TEXT_CELLS
    cell = 0.55 if show_text else 0.12
    fig_w, fig_h = min(max(cols * cell + 1.0, 3.0), 60.0), min(max(rows * cell + 1.2, 2.0), 60.0)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    colors = cmap(norm)
    ax.imshow(colors, interpolation="nearest", aspect="equal")
    if show_text:
        size = 6 if is_fragment(layout) else 7
        # Black text on light cells, white on dark ones (relative luminance of the cell colour).
        luminance = colors[..., 0] * 0.2126 + colors[..., 1] * 0.7152 + colors[..., 2] * 0.0722
        for r in range(rows):
            for c in range(cols):
                ax.text(c, r, texts[r, c], ha="center", va="center", fontsize=size,
                        color="black" if luminance[r, c] > 0.45 else "white")
    ax.set_xticks(range(cols) if cols <= _MAX_TEXT_CELLS else [])
    ax.set_yticks(range(rows) if rows <= _MAX_TEXT_CELLS else [])
    ax.tick_params(labelsize=6, top=True, labeltop=True, bottom=False, labelbottom=False)
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    if show_text:
        ax.grid(which="minor", color="white", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_title(title or default_title, fontsize=9)
    fig.tight_layout()
    written = []
    for out in _output_paths(save_directory, name, formats, path):
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        fig.savefig(out, dpi=110)
        written.append(out)
        if verbose:
            print(f"saved {out}")
    plt.close(fig)
    return written[0] if len(written) == 1 else written


def _ints(text: str) -> tuple:
    return tuple(int(x) for x in text.split(","))


def main(argv=None) -> int:
    """`python -m tilelang.tools {accumulator,swizzle,plan} ... -o out.png`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tilelang.tools",
                                     description="Draw a layout of tilelang.layout to a picture.")
    sub = parser.add_subparsers(dest="kind", required=True)
    acc = sub.add_parser("accumulator", help="the mma.sync accumulator fragment of a gemm")
    acc.add_argument("--shape", type=_ints, default=(32, 32), help="M,N of the accumulator tile")
    acc.add_argument("--warps", type=_ints, default=(2, 2), help="warps along M,N")
    swz = sub.add_parser("swizzle", help="a swizzled shared-memory tile, coloured by bank")
    swz.add_argument("--shape", type=_ints, default=(8, 64))
    swz.add_argument("--bits", type=int, default=16, help="element width in bits")
    swz.add_argument("--bytes", type=int, default=128, help="swizzle width: 32, 64 or 128 bytes")
    plan = sub.add_parser("plan", help="the thread plan of a T.Parallel loop")
    plan.add_argument("--shape", type=_ints, default=(16, 16))
    plan.add_argument("--threads", type=int, default=128)
    plan.add_argument("--vector", type=int, default=1)
    for p in (acc, swz, plan):
        p.add_argument("-o", "--output", required=True, help="file to write (.png, .svg, .pdf)")
        p.add_argument("--colormap", default=None)
    args = parser.parse_args(argv)
    if args.kind == "accumulator":

        layout = mma_accumulator(*args.shape, *args.warps)
        name, bits = f"gemm accumulator {args.shape[0]}x{args.shape[1]}, {args.warps[0]}x{args.warps[1]} warps", 32
    elif args.kind == "swizzle":

        layout = swizzled(args.shape, args.bits, args.bytes)
        name, bits = f"{args.bytes}B swizzle", args.bits
    else:

        layout = parallel_plan(args.shape, args.threads, args.vector)
        name, bits = f"T.Parallel plan, vector {args.vector}", 32
    print(plot_layout(layout, path=args.output, name=name, colormap=args.colormap, dtype_bits=bits))
    return 0
