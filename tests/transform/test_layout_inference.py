"""Golden tests of layout inference on the conformance programs, with a stand-in for the
MMA lane maps (so these tests pin the inference, not the GEMM engineer's layouts)."""
import os
import pathlib
import sys
import types

import pytest

import tilelang.language as T
import tilelang.layout as L
from tilelang.backend.cuda.target import describe
from tilelang.errors import LayoutConflictError
from tilelang.layout import Fragment
from tilelang.transform import layout_inference
from tilelang.transform.layout_inference import infer_layouts

_SUITE = pathlib.Path(os.environ.get("TILELANG_CONFORMANCE_DIR",
                                    pathlib.Path(__file__).resolve().parents[3] / "shared" / "conformance"))
sys.path[:0] = [str(_SUITE), str(_SUITE / "cases")]
pytest.importorskip("harness", reason=f"conformance cases not found at {_SUITE}")


def mma_accumulator(m, n, num_threads, policy="Square"):
    """The mma.sync m16n8 accumulator layout, warps spread by the policy (a stand-in)."""
    warps = num_threads // 32
    if policy == "FullRow":
        wm, wn = warps, 1
    elif policy == "FullCol":
        wm, wn = 1, warps
    else:
        wm = 2 if warps % 2 == 0 and m >= 32 else 1
        wn = warps // wm
    atoms_n = n // 8 // wn

    def fn(i, j):
        ai, aj = i // 16, j // 8
        warp = ai % wm + (aj % wn) * wm
        lane = (i % 8) * 4 + (j % 8) // 2
        reg = ((ai // wm) * atoms_n + aj // wn) * 4 + ((i % 16) // 8) * 2 + j % 2
        return warp * 32 + lane, reg

    return Fragment.from_function((m, n), num_threads, fn)


CALLS = []


def gemm_layouts(op, num_threads, arch):
    CALLS.append((op, num_threads))
    c = op.c.buffer
    out = {c: mma_accumulator(*c.static_shape(), num_threads, op.policy)}
    for region in (op.a, op.b):
        b = region.buffer
        if b.memory_scope.startswith("shared"):
            out[b] = L.best_shared_layout(b.static_shape()[-2:], b.dtype.bits)  # stacked by inference
        else:
            out[b] = mma_accumulator(*b.static_shape(), num_threads, op.policy)
    return out


@pytest.fixture(autouse=True)
def mma_stub(monkeypatch):
    stub = types.ModuleType("tilelang.layout.mma")
    stub.gemm_layouts = gemm_layouts
    monkeypatch.setattr(layout_inference, "mma", stub)
    CALLS.clear()


def by_name(lm):
    return {b.name: layout for b, layout in lm.buffers.items()}


def test_softmax_rows_golden():
    import reduce as cases

    lm = infer_layouts(cases.softmax_rows(64, 128), None)
    assert lm.describe() == "\n".join([
        "x: Fragment(plan(vec=4), shape=(16, 128), threads=128, registers=16) <- T.copy (free, line 18)",
        "mx: Fragment(rows(plan(vec=4)), shape=(16,), threads=128, registers=4, replicate=32) <- T.reduce_max (strict, line 19)",
        "sm: Fragment(rows(plan(vec=4)), shape=(16,), threads=128, registers=4, replicate=32) <- T.reduce_sum (strict, line 22)",
        "loop i line 20: Fragment(plan(vec=4), shape=(16, 128), threads=128, registers=16) <- T.Parallel (from x) (common)",
        "loop i line 23: Fragment(plan(vec=4), shape=(16, 128), threads=128, registers=16) <- T.Parallel (from x) (common)",
    ])


def test_rmsnorm_golden():
    import reduce as cases

    lm = infer_layouts(cases.rmsnorm(32, 256), None)
    assert lm.describe() == "\n".join([
        "x: Fragment(plan(vec=4), shape=(8, 256), threads=128, registers=16) <- T.copy (free, line 37)",
        "sq: Fragment(plan(vec=4), shape=(8, 256), threads=128, registers=16) <- T.Parallel (common, line 38)",
        "ss: Fragment(rows(plan(vec=4)), shape=(8,), threads=128, registers=4, replicate=64) <- T.reduce_sum (strict, line 40)",
        "loop i line 38: Fragment(plan(vec=4), shape=(8, 256), threads=128, registers=16) <- T.Parallel (from x) (common)",
        "loop i line 41: Fragment(rows(plan(vec=4)), shape=(8,), threads=128, registers=4, replicate=64) <- T.Parallel (from ss) (common)",
        "loop i line 43: Fragment(plan(vec=4), shape=(8, 256), threads=128, registers=16) <- T.Parallel (from x) (common)",
    ])


def test_column_max_reduces_dim0():
    import reduce as cases

    lm = by_name(infer_layouts(cases.column_max(256, 96), None))
    part, best = lm["part"], lm["best"]
    assert part.shape == (32,) and part.is_equal(best)
    assert part.is_equal(L.replicated_rows(lm["x"], 0))


def test_elementwise_loops_and_shared_defaults():
    import elementwise as cases

    lm = infer_layouts(cases.add_2d_tiles(128, 96), None)
    names = by_name(lm)
    assert names["A_s"].name == "row_major"
    assert names["C_f"].vector_width() == 8  # 16 bytes of fp16
    (loop_frag,) = lm.loops.values()
    assert loop_frag.is_equal(names["C_f"])
    # a 1-d loop with global stores: no replication, every thread busy (vec 2 x 128 threads)
    lm = infer_layouts(cases.add_1d(1000), None)
    (frag,) = lm.loops.values()
    assert frag.replicate == 1 and frag.num_registers == 2


def test_flash_attention_rows_follow_the_gemm():
    import attention as cases

    lm = infer_layouts(cases.flash_fwd(1, 2, 128, 64, False), describe("sm_80"))
    names = by_name(lm)
    assert names["s"].is_equal(mma_accumulator(64, 64, 128, "FullRow"))
    for row_vec in ("m", "m_prev", "r", "l_blk", "l"):
        assert names[row_vec].replicate == 4, row_vec  # the 4 lanes of a quad share a row
        assert names[row_vec].is_equal(L.replicated_rows(names["s"], 1)), row_vec
    assert lm.decided_by[next(b for b in lm.buffers if b.name == "m")].op == "T.reduce_max"
    assert names["Q_s"].name == "swizzle128B"
    assert all(len(f.shape) in (1, 2) for f in lm.loops.values()) and len(lm.loops) == 5


def test_stacked_shared_and_warp_specialized_threads():
    import barrier as cases

    lm = by_name(infer_layouts(cases.ws_gemm(256, 256, 512), describe("sm_90a")))
    assert lm["A_s"].shape == (2, 128, 64) and lm["A_s"].name.startswith("stacked")
    assert [n for _, n in CALLS] == [128]  # the gemm runs in warp group 0 only
    assert lm["C_f"].num_threads == 128


def test_gemm_cases_decide_every_buffer():
    import gemm as cases

    for case in cases.CASES:
        lm = infer_layouts(case.build(), describe("sm_80"))
        for b in lm.buffers:
            assert lm.decided_by[b].op in ("T.gemm", "default", "T.Parallel", "T.Parallel (from C_f)"), b.name


def test_small_fragment_is_replicated():
    @T.prim_func
    def main(X: T.Tensor((64,), "float32"), Y: T.Tensor((64,), "float32")):
        with T.Kernel(1, threads=128):
            v = T.alloc_fragment((64,), "float32")
            T.copy(X[0:64], v)
            for i in T.Parallel(64):
                v[i] = v[i] * 2.0
            T.copy(v, Y[0:64])

    lm = by_name(infer_layouts(main, None))
    assert lm["v"].replicate == 2 and lm["v"].is_dense()


def test_annotate_layout_wins():
    @T.prim_func
    def main(X: T.Tensor((64, 64), "float16"), Y: T.Tensor((64, 64), "float16")):
        with T.Kernel(1, threads=128):
            S_ = T.alloc_shared((64, 64), "float16")
            T.annotate_layout({S_: L.padded((64, 64), 8)})
            T.copy(X[0, 0], S_)
            T.copy(S_, Y[0, 0])

    lm = infer_layouts(main, None)
    (buf,) = lm.buffers
    assert lm[buf].name == "padded8" and lm.decided_by[buf].op == "T.annotate_layout"


def test_conflicting_gemms_name_both_lines():
    @T.prim_func
    def main(A: T.Tensor((64, 64), "float16"), C: T.Tensor((64, 64), "float32")):
        with T.Kernel(1, threads=128):
            A_s = T.alloc_shared((64, 64), "float16")
            C_f = T.alloc_fragment((64, 64), "float32")
            T.copy(A[0, 0], A_s)
            T.gemm(A_s, A_s, C_f, policy=T.GemmWarpPolicy.FullRow)
            T.gemm(A_s, A_s, C_f, policy=T.GemmWarpPolicy.FullCol)
            T.copy(C_f, C[0, 0])

    with pytest.raises(LayoutConflictError) as info:
        infer_layouts(main, describe("sm_80"))
    text = str(info.value)
    assert "policy=T.GemmWarpPolicy.FullRow" in text and "policy=T.GemmWarpPolicy.FullCol" in text
    assert "C_f" in text


def test_transposed_fragment_read_is_a_conflict():
    @T.prim_func
    def main(A: T.Tensor((64, 64), "float16"), C: T.Tensor((64, 64), "float32")):
        with T.Kernel(1, threads=128):
            A_s = T.alloc_shared((64, 64), "float16")
            C_f = T.alloc_fragment((64, 64), "float32")
            D_f = T.alloc_fragment((64, 64), "float32")
            T.copy(A[0, 0], A_s)
            T.gemm(A_s, A_s, C_f)
            for i, j in T.Parallel(64, 64):
                D_f[i, j] = C_f[j, i]
            T.copy(D_f, C[0, 0])

    with pytest.raises(LayoutConflictError, match=r"iteration \(i=0, j=1\) runs on thread 0, which does not hold C_f\[1, 0\]") as info:
        infer_layouts(main, describe("sm_80"))
    text = str(info.value)
    assert "T.gemm(A_s, A_s, C_f)" in text and "for i, j in T.Parallel(64, 64):" in text


def test_reduced_irregular_shapes_get_line_plans():
    @T.prim_func
    def main(X: T.Tensor((6, 40), "float32"), Y: T.Tensor((6, 40), "float32")):
        with T.Kernel(1, threads=128):
            x = T.alloc_fragment((6, 40), "float32")
            sq = T.alloc_fragment((6, 40), "float32")
            ss = T.alloc_fragment((6,), "float32")
            T.copy(X[0, 0], x)
            for i, j in T.Parallel(6, 40):
                sq[i, j] = x[i, j] * x[i, j]
            T.reduce_sum(sq, ss, dim=1)
            for i, j in T.Parallel(6, 40):
                x[i, j] = x[i, j] / ss[i]
            T.copy(x, Y[0, 0])

    lm = by_name(infer_layouts(main, None))
    assert lm["x"].name == "lines(dim=1)" and lm["sq"].is_equal(lm["x"])  # x joins sq's group
    assert lm["ss"].replicate == 1 and lm["ss"].num_registers == 1


def test_reduce_with_negative_dim_and_kept_dim():
    @T.prim_func
    def main(X: T.Tensor((16, 64), "float32"), Y: T.Tensor((16, 1), "float32")):
        with T.Kernel(1, threads=128):
            x = T.alloc_fragment((16, 64), "float32")
            s = T.alloc_fragment((16, 1), "float32")
            T.copy(X[0, 0], x)
            T.reduce_sum(x, s, dim=-1)
            T.copy(s, Y[0, 0])

    lm = by_name(infer_layouts(main, None))
    rows = L.replicated_rows(lm["x"], 1)
    assert lm["s"].shape == (16, 1)
    for i in range(16):
        assert lm["s"].register(i, 0) == rows.register(i)
        assert {lm["s"].thread(i, 0, rep=k) for k in range(rows.replicate)} == \
            {rows.thread(i, rep=k) for k in range(rows.replicate)}


def test_annotation_of_the_wrong_kind_is_rejected():
    from tilelang.errors import TileLangTypeError

    @T.prim_func
    def main(X: T.Tensor((64,), "float32")):
        with T.Kernel(1, threads=128):
            f = T.alloc_fragment((64,), "float32")
            T.annotate_layout({f: L.row_major((64,))})
            T.copy(X[0], f)

    with pytest.raises(TileLangTypeError, match="needs a tilelang.layout.Fragment"):
        infer_layouts(main, None)
