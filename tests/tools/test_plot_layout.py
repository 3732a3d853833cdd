import numpy as np
import pytest

import tilelang
from tilelang.layout import Fragment, parallel_plan, row_major, swizzled
from tilelang.tools import bank_table, fragment_tables, plot_layout

matplotlib = pytest.importorskip("matplotlib")


def small_fragment():
    # 4 x 8 over 16 threads, two registers each: thread = i * 4 + j // 2, register = j % 2
    return Fragment((4, 8), 16, lambda i, j: (i * 4 + j // 2, j % 2))


def test_fragment_tables():
    threads, regs = fragment_tables(small_fragment())
    assert threads.shape == (4, 8)
    assert threads[1, 5] == 6 and regs[1, 5] == 1


def test_bank_of_a_row_major_tile_repeats_every_64_halves():
    banks = bank_table(row_major((4, 64)), dtype_bits=16)
    assert banks[0, 0] == 0 and banks[0, 2] == 1 and banks[0, 63] == 31 and banks[1, 0] == 0
    # fp32: one element per bank
    assert bank_table(row_major((2, 32)), dtype_bits=32)[0, 5] == 5


def test_the_128b_swizzle_spreads_a_column_over_all_banks():
    layout = swizzled((8, 64), 16, 128)
    banks = bank_table(layout, 16)
    # column 0 of the 8 rows: 16-byte chunks land on 8 different groups of 4 banks
    assert len({int(b) // 4 for b in banks[:, 0]}) == 8
    plain = bank_table(row_major((8, 64)), 16)
    assert len({int(b) // 4 for b in plain[:, 0]}) == 1


def read_png(path):
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_plot_fragment_writes_a_png(tmp_path):
    out = plot_layout(small_fragment(), save_directory=tmp_path, name="frag")
    assert out == str(tmp_path / "frag.png")
    img = read_png(out)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 10  # coloured by thread


def test_plot_shared_layout_to_an_explicit_path_and_several_formats(tmp_path):
    out = plot_layout(swizzled((4, 16), 16, 32), path=tmp_path / "sub" / "swz.png", colormap="viridis")
    assert out.endswith("swz.png") and read_png(out).shape[1] > 200
    outs = plot_layout(row_major((2, 4)), save_directory=tmp_path, name="rm", formats="png,svg")
    assert [p[-3:] for p in outs] == ["png", "svg"]


def test_replicated_and_large_fragments_draw(tmp_path):
    plan = parallel_plan((4, 8), 128)  # 32 elements on 128 threads: replicated 4 times
    assert plan.replicate == 4
    assert plot_layout(plan, path=tmp_path / "rep.png").endswith("rep.png")
    big = parallel_plan((8, 128), 128, 4)
    assert plot_layout(big, path=tmp_path / "big.png").endswith("big.png")


def test_tools_is_reachable_from_the_package():
    assert tilelang.tools.plot_layout is plot_layout


def test_command_line_draws_the_accumulator_and_a_swizzle(tmp_path, capsys):
    from tilelang.tools.plot_layout import main

    assert main(["accumulator", "--shape", "16,8", "--warps", "1,1", "-o", str(tmp_path / "acc.png")]) == 0
    assert main(["swizzle", "--bytes", "32", "--shape", "4,16", "-o", str(tmp_path / "swz.png")]) == 0
    assert main(["plan", "--shape", "4,4", "--threads", "32", "-o", str(tmp_path / "plan.png")]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"acc.png", "swz.png", "plan.png"}
    assert "acc.png" in capsys.readouterr().out
