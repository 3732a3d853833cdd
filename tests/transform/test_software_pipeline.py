"""software_pipeline: golden text, what stays synchronous, and equality with the sequential
loop on the CPU interpreter (DESIGN rule 9)."""
import textwrap

import torch

import tilelang.language as T
from tilelang.backend.cpu import CpuArtifact
from tilelang.ir import expr as E
from tilelang.ir import intrinsics as I
from tilelang.ir import stmt as S
from tilelang.ir import tileop as TOP
from tilelang.ir.visitor import Mutator, collect
from tilelang.target import Target
from tilelang.transform.simplify import simplify
from tilelang.transform.context import PassContext
from tilelang.transform.software_pipeline import software_pipeline
from tilelang.backend.cuda.target import describe


def _ctx(target=None) -> PassContext:
    """The pass context for a Target (a generic one, with no tensor cores, when none)."""
    return PassContext(target=describe(target.arch)) if target is not None else PassContext()


def matmul(M, N, K, bm, bn, bk, stages, dtype="float32"):
    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            A_s = T.alloc_shared((bm, bk), dtype)
            B_s = T.alloc_shared((bk, bn), dtype)
            C_f = T.alloc_fragment((bm, bn), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=stages):
                T.copy(A[by * bm, k * bk], A_s)
                T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[by * bm, bx * bn])

    return main


def _body(func, target=None) -> str:
    return "\n".join(str(simplify(software_pipeline(simplify(func), _ctx(target)))).splitlines()[2:])


def test_three_stage_gemm_golden():
    out = _body(matmul(64, 64, 128, 32, 32, 32, 3))
    assert out == textwrap.dedent("""\
        with T.Kernel(2, 2, threads=128) as (bx, by):
            tx = T.get_thread_binding(0)
            A_s = T.alloc_shared((3, 32, 32), 'float32')
            B_s = T.alloc_shared((3, 32, 32), 'float32')
            C_f = T.alloc_fragment((32, 32), 'float32')
            T.fill(C_f, 0.0)
            T.copy(A[by * 32:by * 32 + 32, 0:32], A_s[0, 0:32, 0:32])
            T.copy(B[0:32, bx * 32:bx * 32 + 32], B_s[0, 0:32, 0:32])
            T.cp_async_commit()
            T.copy(A[by * 32:by * 32 + 32, 32:64], A_s[1, 0:32, 0:32])
            T.copy(B[32:64, bx * 32:bx * 32 + 32], B_s[1, 0:32, 0:32])
            T.cp_async_commit()
            for k in T.serial(4):
                T.cp_async_wait(1)
                T.sync_threads()
                if k + 2 < 4:
                    T.copy(A[by * 32:by * 32 + 32, k * 32 + 64:k * 32 + 96], A_s[(k + 2) % 3, 0:32, 0:32])
                    T.copy(B[k * 32 + 64:k * 32 + 96, bx * 32:bx * 32 + 32], B_s[(k + 2) % 3, 0:32, 0:32])
                T.cp_async_commit()
                T.gemm(A_s[k % 3, 0:32, 0:32], B_s[k % 3, 0:32, 0:32], C_f)
            T.copy(C_f, C[by * 32:by * 32 + 32, bx * 32:bx * 32 + 32])""").replace("\n", "\n    ").join(["    ", ""])


def test_the_schedule_does_not_depend_on_the_gemm_or_the_target():
    """A gemm is one more statement of the body here; its mainloop order comes from
    transform/rotate_pipeline.py on the lowered IR."""
    plain = _body(matmul(64, 64, 128, 32, 32, 32, 3))
    for target in (Target("cuda", "sm_80"), Target("cuda", "sm_90"), Target("cuda", "sm_90a")):
        assert _body(matmul(64, 64, 128, 32, 32, 32, 3), target) == plain
    func = software_pipeline(simplify(matmul(64, 64, 128, 32, 32, 32, 3)), _ctx(Target("cuda", "sm_80")))
    (loop,) = collect(func.body, lambda n: isinstance(n, S.For) and n.kind == "serial")
    assert loop.annotations["pipeline_stages"] == 3


def test_prefetched_copies_are_async_and_buffers_replaced():
    func = software_pipeline(simplify(matmul(64, 64, 128, 32, 32, 32, 2)), _ctx())
    copies = collect(func.body, lambda n: isinstance(n, TOP.Copy) and n.dst.buffer.memory_scope.startswith("shared"))
    assert len(copies) == 4 and all(c.annotations.get("async") for c in copies)
    launch = collect(func.body, lambda n: isinstance(n, S.KernelLaunch))[0]
    staged = [b for b in launch.allocations if b.memory_scope.startswith("shared")]
    assert [tuple(int(x) for x in b.shape) for b in staged] == [(2, 32, 32), (2, 32, 32)]
    assert all(c.dst.buffer in staged for c in copies)
    waits = collect(func.body, lambda n: isinstance(n, E.Call) and I.ASYNC_WAIT.matches(n))
    assert [int(w.args[0].value) for w in waits] == [0]


def test_one_stage_is_a_plain_loop():
    func = software_pipeline(simplify(matmul(64, 64, 128, 32, 32, 32, 1)), _ctx())
    loops = collect(func.body, lambda n: isinstance(n, S.For) and n.var.name == "k")
    assert loops[0].kind == "serial" and "num_stages" not in loops[0].annotations
    assert not collect(func.body, lambda n: isinstance(n, E.Call) and "cp_async" in n.name)


def test_data_dependent_copy_stays_in_place():
    @T.prim_func
    def main(A: T.Tensor((128, 32), "float32"), idx: T.Tensor((4,), "int32"), C: T.Tensor((32, 32), "float32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((32, 32), "float32")
            B_s = T.alloc_shared((32, 32), "float32")
            acc = T.alloc_fragment((32, 32), "float32")
            j = T.alloc_var("int32")
            j = 0
            T.clear(acc)
            for k in T.Pipelined(4, num_stages=2):
                T.copy(A[idx[k] * 32, 0], A_s)          # depends on k only: prefetched
                T.copy(A[j * 32, 0], B_s)               # depends on j, assigned in the loop: in place
                for a, b in T.Parallel(32, 32):
                    acc[a, b] += A_s[a, b] + B_s[a, b]
                j = j + 1
            T.copy(acc, C)

    func = software_pipeline(simplify(main), _ctx())
    text = str(func)
    assert "A_s = T.alloc_shared((2, 32, 32), 'float32')" in text
    assert "B_s = T.alloc_shared((32, 32), 'float32')" in text
    assert "T.copy(A[idx[k + 1] * 32:idx[k + 1] * 32 + 32, 0:32], A_s[(k + 1) % 2, 0:32, 0:32])" in text
    assert "T.copy(A[j[0] * 32:j[0] * 32 + 32, 0:32], B_s)" in text


def test_buffer_used_after_loop_is_not_versioned():
    @T.prim_func
    def main(A: T.Tensor((128, 32), "float32"), C: T.Tensor((32, 32), "float32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((32, 32), "float32")
            acc = T.alloc_fragment((32, 32), "float32")
            T.clear(acc)
            for k in T.Pipelined(4, num_stages=3):
                T.copy(A[k * 32, 0], A_s)
                for a, b in T.Parallel(32, 32):
                    acc[a, b] += A_s[a, b]
            T.copy(A_s, C)

    func = software_pipeline(simplify(main), _ctx())
    assert "cp_async" not in str(func) and "T.serial(4)" in str(func)


# ------------------------------------------------------------------ rule 9 on the CPU interpreter
class _DropSyncs(Mutator):
    """The CPU interpreter runs copies synchronously; the commit/wait/barrier calls are no-ops."""

    def visit_Evaluate(self, s):
        if isinstance(s.value, E.Call) and (I.lookup(s.value) in (I.ASYNC_COMMIT, I.ASYNC_WAIT, I.BLOCK_BARRIER)):
            return S.SeqStmt(())
        return s


def _run_cpu(func, *args):
    CpuArtifact(func).launch(list(args), {})


def _check_same(func, inputs, out_shape, target=None):
    ref = torch.zeros(out_shape)
    _run_cpu(func, *inputs, ref)
    piped = software_pipeline(simplify(func), _ctx(target))
    piped = piped.with_body(_DropSyncs().visit(piped.body))
    out = torch.full(out_shape, float("nan"))
    _run_cpu(piped, *inputs, out)
    assert torch.equal(out, ref)


def test_pipelined_gemm_equals_sequential_on_cpu():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 160, generator=g), torch.randn(160, 64, generator=g)
    for stages in (2, 3, 4):
        _check_same(matmul(64, 64, 160, 32, 32, 32, stages), (a, b), (64, 64))


def test_pipelined_gemm_for_a_tensor_core_target_equals_sequential_on_cpu():
    g = torch.Generator().manual_seed(2)
    for K, bk in ((160, 32), (32, 32), (64, 32), (96, 16)):  # 5, 1, 2 and 6 iterations
        a, b = torch.randn(64, K, generator=g), torch.randn(K, 64, generator=g)
        for stages in (2, 3, 4):
            _check_same(matmul(64, 64, K, 32, 32, bk, stages), (a, b), (64, 64), Target("cuda", "sm_80"))


def test_pipelined_short_and_dynamic_trip_count_on_cpu():
    @T.prim_func
    def main(A: T.Tensor((4, 64, 16), "float32"), C: T.Tensor((4, 16), "float32")):
        with T.Kernel(4, threads=128) as bx:
            A_s = T.alloc_shared((16, 16), "float32")
            acc = T.alloc_fragment((16, 16), "float32")
            T.clear(acc)
            for k in T.Pipelined(bx + 1, num_stages=3):   # 1 .. 4 iterations: fewer than the stages too
                T.copy(A[bx, k * 16, 0], A_s)
                for a, b in T.Parallel(16, 16):
                    acc[a, b] += A_s[a, b] * (k + 1)
            for a in T.Parallel(16):
                C[bx, a] = acc[0, a] + acc[15, a]

    g = torch.Generator().manual_seed(1)
    _check_same(main, (torch.randn(4, 64, 16, generator=g),), (4, 16))


def test_annotated_layout_follows_the_staged_buffer():
    from tilelang.layout import Layout, padded, stacked

    @T.prim_func
    def main(A: T.Tensor((128, 32), "float32"), C: T.Tensor((32, 32), "float32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((32, 32), "float32")
            acc = T.alloc_fragment((32, 32), "float32")
            T.annotate_layout({A_s: padded((32, 32), 4)})
            T.clear(acc)
            for k in T.Pipelined(4, num_stages=2):
                T.copy(A[k * 32, 0], A_s)
                for a, b in T.Parallel(32, 32):
                    acc[a, b] += A_s[a, b]
            T.copy(acc, C)

    func = software_pipeline(simplify(main), _ctx())
    launch = collect(func.body, lambda n: isinstance(n, S.KernelLaunch))[0]
    ((buf, layout),) = launch.annotations["layout_map"].items()
    assert buf in launch.allocations and tuple(int(x) for x in buf.shape) == (2, 32, 32)
    assert isinstance(layout, Layout) and layout.is_equal(stacked(padded((32, 32), 4), 2))
