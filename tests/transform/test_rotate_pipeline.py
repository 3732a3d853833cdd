"""rotate_pipeline: golden IR where it applies and where it keeps the schedule, the effects it
reads, and host execution of the rotated GEMM mainloop (with mutations it must catch)."""
import os
import shutil
import sys
import textwrap

import pytest
import torch

import tilelang.backend.cuda.pipeline as P
import tilelang.language as T
from tilelang.ir import expr as E
from tilelang.ir import stmt as S
from tilelang.ir.dtypes import as_dtype
from tilelang.ir.visitor import Mutator, collect
from tilelang.transform import rotate_pipeline as R

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "backend_cuda"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "codegen"))
from test_pipeline_passes import run_to  # noqa: E402


def matmul(K, bk, stages, M=32, N=32, threads=128):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=threads) as bx:
            A_s = T.alloc_shared((M, bk), "float16")
            B_s = T.alloc_shared((bk, N), "float16")
            C_f = T.alloc_fragment((M, N), "float32")
            T.clear(C_f)
            for k in T.Pipelined(K // bk, num_stages=stages):
                T.copy(A[0, k * bk], A_s)
                T.copy(B[k * bk, 0], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[0, 0])

    return main


@T.prim_func
def shared_at_the_end(A: T.Tensor((4, 64, 16), "float32"), C: T.Tensor((64, 16), "float32")):
    with T.Kernel(1, threads=128) as bx:
        A_s = T.alloc_shared((64, 16), "float32")
        acc = T.alloc_fragment((64, 16), "float32")
        T.clear(acc)
        for k in T.Pipelined(4, num_stages=3):
            T.copy(A[k, 0, 0], A_s)
            for a, b in T.Parallel(64, 16):
                acc[a, b] += A_s[a, b]
        T.copy(acc, C)


def _loop(func) -> S.For:
    (loop,) = collect(func.body, lambda n: isinstance(n, S.For) and "pipeline_stages" in n.annotations)
    return loop


def _calls(stmts) -> list:
    """One word per statement: the intrinsic it calls (`if` for the guarded issue)."""
    out = []
    for s in stmts:
        if isinstance(s, S.IfThenElse):
            out.append("if")
        elif isinstance(s, S.Evaluate) and isinstance(s.value, E.Call):
            out.append(s.value.name)
        else:
            out.append(type(s).__name__)
    return out


def _schedule(func):
    """(the statements right before the pipelined loop, the loop body), as words."""
    loop = _loop(func)
    (seq,) = collect(func.body, lambda n: isinstance(n, S.SeqStmt) and any(s is loop for s in n.stmts))
    before = list(seq.stmts[:[i for i, s in enumerate(seq.stmts) if s is loop][0]])
    return _calls(before[-5:]), _calls(R._flatten(loop.body))


def test_gemm_mainloop_golden():
    """From the prologue's last wait to the end of the loop (the copies before are as
    software_pipeline wrote them, plus the issue of stage 2 peeled from the head)."""
    out, _ = run_to(matmul(128, 32, 3, M=16, N=16, threads=32), "rotate_pipeline")
    text = out.script()
    got = textwrap.dedent("        " + text[text.index("T.cp_async_wait"):text.index("for i1_r")]).strip()
    assert got == textwrap.dedent("""\
        T.cp_async_wait(2)
        T.sync_threads()
        T.gemm_ss_load_step0(16, 16, 32, 1, 1, 'false', 'false', 'false', 'tl::SmemLayout<16, 32, 64>', 'tl::SmemLayout<32, 16, 32>', 'tl::Ints<0, 4>', T.call('address_of', A_s[0 % 3 * 512]) -> handle, T.call('address_of', B_s[0 % 3 * 512]) -> handle, T.call('address_of', C_f_step0[0]) -> handle, tx)
        for k in T.serial(4):
            T.gemm_ss_steps(16, 16, 32, 1, 1, 'false', 'false', 'false', 'tl::SmemLayout<16, 32, 64>', 'tl::SmemLayout<32, 16, 32>', 'tl::Ints<0, 4>', T.call('address_of', A_s[k % 3 * 512]) -> handle, T.call('address_of', B_s[k % 3 * 512]) -> handle, T.call('address_of', C_f[0]) -> handle, T.call('address_of', C_f_step0[0]) -> handle, T.call('address_of', C_f_steps[0]) -> handle, tx)
            T.cp_async_wait(1)
            T.sync_threads()
            if k + 1 + 2 < 4:
                for it_4 in T.unroll(2):
                    T.cp_async(16, T.call('address_of', A_s[(k + 1 + 2) % 3 * 512 + it_4 * 256 + tx * 8 // 32 * 32 + (tx * 8 % 32 ^ (it_4 * 8 + tx * 8 // 32 >> 1 & 3) << 3)]) -> handle, T.call('address_of', A[it_4 * 8 + tx * 8 // 32, (k + 1) * 32 + tx * 8 % 32 + 64]) -> handle)
                for it_5 in T.unroll(2):
                    T.cp_async(16, T.call('address_of', B_s[(k + 1 + 2) % 3 * 512 + it_5 * 256 + tx * 8 // 16 * 16 + (tx * 8 % 16 ^ (it_5 * 16 + tx * 8 // 16 >> 2 & 1) << 3)]) -> handle, T.call('address_of', B[(k + 1) * 32 + it_5 * 16 + tx * 8 // 16 + 64, tx * 8 % 16]) -> handle)
            T.cp_async_commit()
            T.gemm_ss_load_step0(16, 16, 32, 1, 1, 'false', 'false', 'false', 'tl::SmemLayout<16, 32, 64>', 'tl::SmemLayout<32, 16, 32>', 'tl::Ints<0, 4>', T.call('address_of', A_s[(k + 1) % 3 * 512]) -> handle, T.call('address_of', B_s[(k + 1) % 3 * 512]) -> handle, T.call('address_of', C_f_step0[0]) -> handle, tx)
            T.gemm_mma_last(16, 16, 32, 1, 1, 'half_t', 'tl::Ints<0, 4>', T.call('address_of', C_f[0]) -> handle, T.call('address_of', C_f_steps[8]) -> handle)
        """).strip()
    assert _loop(out).annotations["pipeline_stages"] == 3


def test_one_k_step_keeps_its_fragments_in_place():
    """With one k-step the last MMA reads the step-0 registers, so their load cannot rotate;
    the barrier still moves past the shared-memory reads."""
    out, _ = run_to(matmul(64, 16, 2, M=16, N=16, threads=32), "rotate_pipeline")
    before, body = _schedule(out)
    assert before[-2:] == ["cp_async_wait", "sync_threads"]
    assert body == ["gemm_ss_load_step0", "gemm_ss_steps", "cp_async_wait", "sync_threads", "if",
                    "cp_async_commit", "gemm_mma_last"]


def test_a_body_ending_in_shared_reads_keeps_its_schedule():
    lowered, _ = run_to(shared_at_the_end, "lower_tile_ops")
    rotated, _ = run_to(shared_at_the_end, "rotate_pipeline")
    assert rotated.script() == lowered.script()


def test_a_trailing_statement_that_needs_the_registers_blocks_the_rotation():
    out, _ = run_to(matmul(128, 32, 3, M=16, N=16, threads=32), "lower_tile_ops")
    loop = _loop(out)
    body = R._flatten(loop.body)
    (step0,) = [b for b in R.effects(body[4]).writes if b.name == "C_f_step0"]  # gemm_ss_load_step0's registers
    reads_step0 = S.Evaluate(E.Call(as_dtype("int32"), "printf", ("%u", E.BufferLoad(step0.dtype, step0, (E.const(0),)))))
    assert R.commute(body[-1], body[0]) and not R.commute(reads_step0, body[4])
    changed = _with_loop_body(out, loop, S.seq(body + [reads_step0]))
    before, rotated = _schedule(R.rotate_pipeline(changed, None))
    # the load stays first (the new statement reads its registers); the barrier still moves
    assert rotated == ["gemm_ss_load_step0", "gemm_ss_steps", "cp_async_wait", "sync_threads", "if",
                       "cp_async_commit", "gemm_mma_last", "printf"]


def _with_loop_body(func, loop, body):
    class Swap(Mutator):
        def visit_For(self, s):
            if s is loop:
                return S.For(s.var, s.min, s.extent, s.kind, body, s.step, s.annotations, span=s.span)
            return self.generic_visit(s)

    return func.with_body(Swap().visit(func.body))


def test_effects_of_the_gemm_parts():
    out, _ = run_to(matmul(128, 32, 3, M=16, N=16, threads=32), "lower_tile_ops")
    load, steps, last = R._flatten(_loop(out).body)[4:]
    fx = R.effects(load)
    assert fx.only_register_loads and fx.shared() and not fx.ordering
    assert {b.name for b in fx.writes} == {"C_f_step0"}
    assert not R.effects(steps).only_register_loads or R.effects(steps).shared()
    assert not R.effects(last).shared() and not R.effects(last).ordering


# ------------------------------------------------------------------ host execution
pytestmark_host = pytest.mark.skipif(not (shutil.which("g++") or shutil.which("clang++")), reason="needs a host C++ compiler")


def _mutated(mutate):
    """PASSES with rotate_pipeline followed by `mutate(body statements) -> statements` on the loop."""
    def rotate_then_mutate(func, ctx):
        func = R.rotate_pipeline(func, ctx)
        loop = _loop(func)
        return _with_loop_body(func, loop, S.seq(mutate(R._flatten(loop.body))))

    rotate_then_mutate.__name__ = "rotate_pipeline"
    return tuple(rotate_then_mutate if p is R.rotate_pipeline else p for p in P.PASSES)


def _run_host(func, K, late, passes=None, monkeypatch=None):
    from host_cuda import HostKernel

    if passes is not None:
        monkeypatch.setattr(P, "PASSES", passes)
    g = torch.Generator().manual_seed(K)
    a = torch.randn(32, K, generator=g).half()
    b = torch.randn(K, 32, generator=g).half()
    c = torch.full((32, 32), float("nan"))
    HostKernel(func, "sm_80", late_async_copies=late)(a, b, c)
    ref = a.double() @ b.double()
    return torch.allclose(c.double(), ref, rtol=1e-3, atol=1e-3)


@pytestmark_host
@pytest.mark.parametrize("late", [False, True], ids=["copies-land-at-issue", "copies-land-at-wait"])
@pytest.mark.parametrize("bk,stages", [(16, 2), (32, 3), (48, 2), (32, 4), (64, 3)])
def test_rotated_mainloop_on_the_host(bk, stages, late):
    K = bk * 5
    assert _run_host(matmul(K, bk, stages), K, late)


@pytestmark_host
def test_host_execution_catches_a_fragment_load_before_the_wait(monkeypatch):
    """The next stage's step-0 load moved above the wait reads a stage that has not landed."""
    def early_load(body):
        load = body[-2]
        return body[:1] + [load] + body[1:-2] + body[-1:]

    func = matmul(160, 32, 3)
    assert _run_host(func, 160, late=True)
    assert not _run_host(func, 160, late=True, passes=_mutated(early_load), monkeypatch=monkeypatch)


@pytestmark_host
def test_host_execution_catches_an_issue_into_the_slot_being_read(monkeypatch):
    """The head moved above the k-steps overwrites the slot they still read."""
    def early_issue(body):
        return body[1:5] + body[:1] + body[5:]

    func = matmul(160, 32, 3)
    assert _run_host(func, 160, late=False)
    assert not _run_host(func, 160, late=False, passes=_mutated(early_issue), monkeypatch=monkeypatch)
