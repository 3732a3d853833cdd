"""Golden IR text for the passes of backend/cuda/pipeline.py, on small programs."""
import textwrap

import pytest

import tilelang.language as T
import tilelang.backend.cuda.pipeline as P
from tilelang.ir import intrinsics as I
from tilelang.ir import stmt as S
from tilelang.ir.visitor import collect
from tilelang.target import Target


def run_to(func, last: str, arch: str = "sm_80", options=None):
    """The PrimFunc after pass `last` (the final simplify for "end")."""
    names = [p.__name__ for p in P.PASSES]
    stop = len(names) if last == "end" else names.index(last) + 1
    saved = P.PASSES
    P.PASSES = saved[:stop]
    try:
        out, ctx = P.lower(func, arch, options or {})
    finally:
        P.PASSES = saved
    return out, ctx


def text(func) -> str:
    return func.script().strip()


def golden(s: str) -> str:
    return textwrap.dedent(s).strip()


def launch(func) -> S.KernelLaunch:
    (k,) = collect(func.body, lambda n: isinstance(n, S.KernelLaunch))
    return k


@T.prim_func
def scale(A: T.Tensor((256,), "float32"), B: T.Tensor((256,), "float32")):
    with T.Kernel(2, threads=128) as bx:
        for i in T.Parallel(128):
            B[bx * 128 + i] = A[bx * 128 + i] * 2.0


@T.prim_func
def mirror(A: T.Tensor((64,), "float32"), B: T.Tensor((64,), "float32")):
    with T.Kernel(1, threads=64) as bx:
        tx = T.get_thread_binding()
        S_ = T.alloc_shared((64,), "float32")
        S_[tx] = A[tx]
        B[tx] = S_[63 - tx]


@T.prim_func
def loop_carried(A: T.Tensor((256,), "float32"), B: T.Tensor((64,), "float32")):
    with T.Kernel(1, threads=64) as bx:
        tx = T.get_thread_binding()
        S_ = T.alloc_shared((64,), "float32")
        acc = T.alloc_var("float32")
        acc = 0.0
        for k in T.serial(4):
            S_[tx] = A[k * 64 + tx]
            acc = acc + S_[63 - tx]
        B[tx] = acc


@T.prim_func
def divergent(A: T.Tensor((64,), "float32"), B: T.Tensor((64,), "float32")):
    with T.Kernel(1, threads=64) as bx:
        tx = T.get_thread_binding()
        S_ = T.alloc_shared((64,), "float32")
        if tx < 32:
            S_[tx] = A[tx]
            B[tx] = S_[31 - tx]


@T.prim_func
def two_phases(A: T.Tensor((128,), "float32"), B: T.Tensor((128,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        X = T.alloc_shared((128,), "float32")
        Y = T.alloc_shared((128,), "float32")
        T.copy(A, X)
        T.copy(X, B)
        T.copy(A, Y)
        T.copy(Y, B)


@T.prim_func
def barriers(A: T.Tensor((128,), "float32"), B: T.Tensor((128,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        tx = T.get_thread_binding()
        bar = T.alloc_barrier([64, 32])
        T.mbarrier_arrive(bar[0])
        B[tx] = A[tx]


def test_lower_tile_ops_plans_a_parallel_loop_over_threads():
    out, _ = run_to(scale, "end")
    assert text(out) == golden("""
        @T.prim_func
        def scale(A: T.Tensor((256,), 'float32'), B: T.Tensor((256,), 'float32')):
            with T.Kernel(2, threads=128) as bx:
                tx = T.get_thread_binding(0)
                B[bx * 128 + tx] = A[bx * 128 + tx] * 2.0
    """)


def test_insert_syncs_orders_a_shared_write_before_other_threads_read_it():
    out, _ = run_to(mirror, "insert_syncs")
    assert text(out) == golden("""
        @T.prim_func
        def mirror(A: T.Tensor((64,), 'float32'), B: T.Tensor((64,), 'float32')):
            with T.Kernel(1, threads=64) as bx:
                tx = T.get_thread_binding(0)
                S_ = T.alloc_shared((64,), 'float32')
                S_[tx] = A[tx]
                T.sync_threads()
                B[tx] = S_[-tx + 63]
    """)


def test_insert_syncs_covers_the_loop_carried_hazard():
    out, _ = run_to(loop_carried, "insert_syncs")
    assert text(out) == golden("""
        @T.prim_func
        def loop_carried(A: T.Tensor((256,), 'float32'), B: T.Tensor((64,), 'float32')):
            with T.Kernel(1, threads=64) as bx:
                tx = T.get_thread_binding(0)
                S_ = T.alloc_shared((64,), 'float32')
                acc = T.alloc_var('float32')
                acc[0] = 0.0
                for k in T.serial(4):
                    T.sync_threads()
                    S_[tx] = A[k * 64 + tx]
                    T.sync_threads()
                    acc[0] = acc[0] + S_[-tx + 63]
                B[tx] = acc[0]
    """)


def test_insert_syncs_never_puts_a_barrier_in_divergent_code():
    out, _ = run_to(divergent, "insert_syncs")
    syncs = collect(out.body, lambda n: isinstance(n, S.Evaluate) and I.BLOCK_BARRIER.matches(n))
    ifs = collect(out.body, lambda n: isinstance(n, S.IfThenElse))
    assert ifs and not any(collect(i, lambda n: n in syncs) for i in ifs)


def test_plan_shared_memory_reuses_dead_buffers_and_aligns():
    out, _ = run_to(two_phases, "plan_shared_memory")
    k = launch(out)
    offsets = {b.name: off for b, off in k.annotations["smem_offsets"].items()}
    assert offsets == {"X": 0, "Y": 0}, offsets  # X is dead before Y is first written
    assert k.annotations["smem_bytes"] == 512
    out, _ = run_to(two_phases, "insert_syncs")
    # the reuse is ordered: a barrier between the last read of X and the first write of Y
    assert text(out).count("T.sync_threads()") == 3


def test_plan_shared_memory_without_reuse():
    out, _ = run_to(two_phases, "plan_shared_memory", options={"pass_configs": {"tir.disable_storage_rewrite": True}})
    offsets = sorted(launch(out).annotations["smem_offsets"].values())
    assert offsets == [0, 512]


@pytest.mark.parametrize("arch, fence", [("sm_80", False), ("sm_90a", True)])
def test_init_barriers_inits_every_slot_once(arch, fence):
    out, _ = run_to(barriers, "init_barriers", arch=arch)
    script = text(out)
    assert golden("""
        if tx == 0:
            T.mbarrier_init(bar[0], 64)
            T.mbarrier_init(bar[1], 32)
    """) in textwrap.dedent("\n".join(script.splitlines()[5:8]))
    assert ("T.fence_mbarrier_init()" in script) == fence
    assert script.index("T.sync_threads()") < script.index("T.mbarrier_arrive")


def test_dump_ir_writes_one_file_per_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("TILELANG_DUMP_IR", str(tmp_path))
    P.lower(scale, "sm_80", {})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "00_input.txt" and names[-1] == f"{len(P.PASSES):02d}_simplify.txt"
    assert "04_lower_tile_ops.txt" in names and "07_insert_syncs.txt" in names


@T.prim_func
def reuse_then_prefetch(A: T.Tensor((64, 256), "float16"), B: T.Tensor((64,), "float32")):
    with T.Kernel(1, threads=64) as bx:
        tx = T.get_thread_binding()
        X_s = T.alloc_shared((64, 32), "float16")
        A_s = T.alloc_shared((64, 32), "float16")
        acc = T.alloc_var("float32")
        acc = 0.0
        X_s[tx, 0] = A[tx, 0]
        acc = acc + X_s[63 - tx, 0]
        for k in T.Pipelined(8, num_stages=2):
            T.copy(A[0, k * 32], A_s)
            acc = acc + A_s[tx, 31]
        B[tx] = acc


def test_an_async_prefetch_waits_for_earlier_readers_but_leaves_nothing_pending():
    out, _ = run_to(reuse_then_prefetch, "insert_syncs")
    offsets = {b.name: o for b, o in launch(out).annotations["smem_offsets"].items()}
    assert offsets["X_s"] == offsets["A_s"]  # X_s is dead when the prefetch starts: same bytes
    script = text(out)
    head, loop = script.split("for k in")
    prologue = head.split("acc[0] = acc[0] + T.cast(X_s")[1]
    # the prologue's cp.async overwrites bytes other threads just read: a barrier first
    assert prologue.index("T.sync_threads()") < prologue.index("T.cp_async(16")
    # in the loop only the pipeline's own barrier (after the wait), none after the issue
    assert loop.count("T.sync_threads()") == 1


@T.prim_func
def split_gemm(A: T.Tensor((64, 256), "float16"), B: T.Tensor((256, 64), "float16"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        A_s = T.alloc_shared((64, 32), "float16")
        B_s = T.alloc_shared((32, 64), "float16")
        C_f = T.alloc_fragment((64, 64), "float32")
        T.clear(C_f)
        for k in T.Pipelined(8, num_stages=3):
            T.copy(A[0, k * 32], A_s)
            T.copy(B[k * 32, 0], B_s)
            T.gemm(A_s, B_s, C_f)
        T.copy(C_f, C)


def test_insert_syncs_adds_nothing_to_the_rotated_gemm_pipeline():
    out, _ = run_to(split_gemm, "insert_syncs")
    head, loop = text(out).split("for k in")
    # the step-0 loads read the slots the loop's copies overwrite, but only after the loop's own
    # barrier: no second barrier before the loop, and exactly the pipeline's one inside it
    assert head.count("T.sync_threads()") == 1 and "gemm_ss_load_step0" in head.split("T.sync_threads()")[1]
    body, after = loop.split("T.gemm_ss_load_step0")
    assert body.count("T.sync_threads()") == 1 and "gemm_ss_steps" in body.split("T.sync_threads()")[0]
    assert "T.sync_threads()" not in after and "gemm_mma_last" in after
