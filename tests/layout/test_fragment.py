"""Fragments: logical/thread/register round trips, plans with holes, replication of row
reductions, and expressions that agree with the integer tables."""
import itertools

import numpy as np
import pytest

from tilelang.errors import TileLangValueError
from tilelang.layout import Fragment, line_plan, parallel_plan, replicated_rows, with_unit_dim

from .evaluate import evaluate, int_vars


def check_round_trip(frag: Fragment):
    """Every element copy sits in a distinct slot and logical() finds it again."""
    seen = set()
    for idx in itertools.product(*(range(s) for s in frag.shape)):
        reg = frag.register(*idx)
        assert 0 <= reg < frag.num_registers
        for rep in range(frag.replicate):
            t = frag.thread(*idx, rep=rep)
            assert 0 <= t < frag.num_threads
            assert (t, reg) not in seen
            seen.add((t, reg))
            assert frag.logical(t, reg) == idx
            assert frag.covers(t, reg) is True
    for t in range(frag.num_threads):
        for r in range(frag.num_registers):
            assert frag.covers(t, r) == ((t, r) in seen)
    return seen


def check_expressions(frag: Fragment, samples=64):
    idx_vars = int_vars(*(f"i{k}" for k in range(len(frag.shape))))
    t, r, rep = int_vars("t", "r", "rep")
    thread = frag.thread(*idx_vars, rep=rep)
    register = frag.register(*idx_vars)
    logical = frag.logical(t, r)
    covers = frag.covers(t, r)
    rng = np.random.default_rng(1)
    for _ in range(samples):
        idx = tuple(int(rng.integers(s)) for s in frag.shape)
        k = int(rng.integers(frag.replicate))
        env = dict(zip(idx_vars, idx)) | {rep: k}
        assert evaluate(thread, env) == frag.thread(*idx, rep=k)
        assert evaluate(register, env) == frag.register(*idx)
        tt, rr = int(rng.integers(frag.num_threads)), int(rng.integers(frag.num_registers))
        assert bool(evaluate(covers, {t: tt, r: rr})) == frag.covers(tt, rr)
        if frag.covers(tt, rr):
            assert tuple(evaluate(x, {t: tt, r: rr}) for x in logical) == frag.logical(tt, rr)


@pytest.mark.parametrize("shape,threads,vec", [
    ((16, 128), 128, 4), ((8, 256), 128, 2), ((64, 32), 128, 4), ((32, 32), 128, 1),
    ((3, 5), 4, 1), ((6, 10), 8, 2), ((64,), 128, 1), ((5,), 128, 1)])
def test_parallel_plan(shape, threads, vec):
    frag = parallel_plan(shape, threads, vec)
    check_round_trip(frag)
    check_expressions(frag)
    assert frag.vector_width() % vec == 0
    slots = int(np.prod(shape)) // vec
    if slots < threads and threads % slots == 0:
        assert frag.replicate == threads // slots and frag.is_dense()
    else:
        assert frag.num_registers == -(-slots // threads) * vec


def test_plan_consecutive_vectors():
    frag = parallel_plan((16, 128), 128, 4)
    assert frag.vector_width() == 4
    assert [frag.thread(0, j) for j in range(0, 16, 4)] == [0, 1, 2, 3]
    assert frag.register(0, 3) == 3 and frag.register(4, 0) == 4
    assert frag.linear is not None  # power-of-two plans are bit-linear
    with pytest.raises(TileLangValueError, match="vector width"):
        parallel_plan((4, 6), 8, 4)


def test_plan_with_holes_guards():
    frag = parallel_plan((3, 5), 4, 1)  # 15 elements over 4 threads: 4 registers, one hole
    assert frag.num_registers == 4 and not frag.is_dense()
    assert frag.covers(2, 3) is True and frag.covers(3, 3) is False


@pytest.mark.parametrize("shape,threads,vec,dim", [
    ((16, 128), 128, 4, 1), ((64, 32), 128, 4, 0), ((8, 256), 128, 4, 1), ((4, 8, 16), 64, 2, 1),
    ((64, 64), 128, 2, 1)])
def test_replicated_rows_of_plans(shape, threads, vec, dim):
    src = parallel_plan(shape, threads, vec)
    dst = replicated_rows(src, dim)
    assert dst.shape == shape[:dim] + shape[dim + 1:]
    check_round_trip(dst)
    check_expressions(dst)
    assert dst.name.startswith("rows")  # the bit-algebra path, not the broadcast fallback
    # every thread holding part of a row holds that row's result, and no other thread does
    threads_src = np.moveaxis(src.tables()[0][0], dim, -1)
    for idx in itertools.product(*(range(s) for s in dst.shape)):
        holders = {dst.thread(*idx, rep=k) for k in range(dst.replicate)}
        assert holders == set(threads_src[idx].reshape(-1).tolist())


def test_replicated_rows_of_replicated_fragment():
    # a (8, 8) tile over 128 threads: 2 replicas, then reduce rows
    src = parallel_plan((8, 8), 128, 1)
    assert src.replicate == 2
    dst = replicated_rows(src, 1)
    assert dst.replicate == 16
    check_round_trip(dst)


def test_replicated_rows_fallback_broadcasts():
    src = parallel_plan((3, 5), 4, 1)
    dst = replicated_rows(src, 1)
    assert dst.replicate == 4 and dst.num_registers == 3
    check_round_trip(dst)
    check_expressions(dst)


def test_custom_fragment_with_rep_and_checks():
    # mma-like: 4 lanes share a row; replicas in the low thread bits
    frag = Fragment.from_function((8,), 32, lambda i, rep=0: (i * 4 + rep, 0), replicate=4)
    check_round_trip(frag)
    assert frag.thread(3, rep=2) == 14
    with pytest.raises(TileLangValueError, match="share"):
        Fragment.from_function((4,), 2, lambda i: (i % 2, 0))
    with pytest.raises(TileLangValueError, match="threads outside"):
        Fragment.from_function((4,), 2, lambda i: (i, 0))


def test_register_from():
    buf = parallel_plan((16, 64), 128, 4)
    loop = parallel_plan((16, 64), 128, 2)
    t, r = int_vars("t", "r")
    assert buf.register_from(buf, t, r) is r
    expr = buf.register_from(loop, t, r)
    for tt in range(128):
        for rr in range(loop.num_registers):
            want = buf.register(*loop.logical(tt, rr))
            assert evaluate(expr, {t: tt, r: rr}) == want
    assert buf.holds_all_of(buf) and not buf.holds_all_of(loop)


def test_equality_and_key():
    a = parallel_plan((16, 64), 128, 4)
    b = parallel_plan((16, 64), 128, 4)
    c = parallel_plan((16, 64), 128, 2)
    assert a.is_equal(b) and not a.is_equal(c)
    assert a.__tl_key__() == b.__tl_key__() != c.__tl_key__()


@pytest.mark.parametrize("shape,threads,dim", [((48, 40), 128, 1), ((24, 16), 64, 0), ((3, 5, 7), 8, 1)])
def test_line_plan_reduces_within_threads(shape, threads, dim):
    src = line_plan(shape, threads, dim)
    check_round_trip(src)
    check_expressions(src)
    dst = replicated_rows(src, dim)
    assert dst.replicate == 1 and dst.name.startswith("plan")  # not the broadcast fallback
    check_round_trip(dst)
    # each line lives in one thread, the same one that holds its result
    threads_src = np.moveaxis(src.tables()[0][0], dim, -1)
    for idx in itertools.product(*(range(s) for s in dst.shape)):
        assert set(threads_src[idx].tolist()) == {dst.thread(*idx)}


def test_irregular_rows_fall_back_to_broadcast():
    src = parallel_plan((48, 40), 128, 4)  # rows straddle thread runs irregularly
    dst = replicated_rows(src, 1)
    assert dst.name == "broadcast" and dst.replicate == 128


@pytest.mark.parametrize("frag", [
    parallel_plan((16,), 128, 1),                                # default replicas (linear)
    replicated_rows(parallel_plan((16, 128), 128, 4), 1),        # bit-algebra replicas
    Fragment.from_function((8,), 32, lambda i, rep=0: (i * 4 + rep, 0), replicate=4),
    Fragment.from_function((3,), 12, lambda i: (i, 0), lambda t, r: (t % 3,), replicate=4),  # not linear
], ids=["plan", "rows", "custom-rep", "nonlinear"])
def test_primary_picks_one_replica(frag):
    t, r = int_vars("t", "r")
    expr = frag.primary(t, r)
    for idx in itertools.product(*(range(s) for s in frag.shape)):
        reg = frag.register(*idx)
        holders = [frag.thread(*idx, rep=k) for k in range(frag.replicate)]
        assert [frag.primary(h, reg) for h in holders] == [True] + [False] * (frag.replicate - 1)
        assert [bool(evaluate(expr, {t: h, r: reg})) for h in holders] == [True] + [False] * (frag.replicate - 1)


def test_reference_style_constructors():
    frag = Fragment((16, 16), forward_thread_fn=lambda i, j: (i % 8) * 4 + j % 4,
                    forward_index_fn=lambda i, j: [(i // 8) * 4 + j // 4])
    assert frag.num_threads == 32 and frag.num_registers == 8  # thread extent inferred
    check_round_trip(frag)
    rep = Fragment((8,), forward_fn=lambda i, r: (i * 4 + r, [0]), replicate=4)
    assert rep.thread(2, rep=3) == 11 and rep.replicate == 4
    with pytest.raises(TileLangValueError, match="forward_thread_fn"):
        Fragment((8,))


def test_with_unit_dim_keeps_threads_and_registers():
    src = parallel_plan((16, 8), 32, 2)
    dst = with_unit_dim(src, 1)
    assert dst.shape == (16, 1, 8) and dst.num_registers == src.num_registers
    for i, j in itertools.product(range(16), range(8)):
        assert (dst.thread(i, 0, j), dst.register(i, 0, j)) == (src.thread(i, j), src.register(i, j))
    check_round_trip(dst)
