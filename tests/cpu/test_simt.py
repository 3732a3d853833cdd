"""Thread-level code on the CPU backend: one lane per thread, masks for divergent branches
and loops, per-thread storage, warp shuffles, and mbarrier hand-offs between thread groups."""
import pytest
import torch

import tilelang
import tilelang.language as T
from tilelang.errors import DeviceRuntimeError


def _compile(func, out_idx=None):
    return tilelang.compile(func, out_idx=out_idx, target="cpu")


def test_divergent_branches_write_per_thread_variables():
    @T.prim_func
    def main(X: T.Tensor((64,), "float32"), Y: T.Tensor((64,), "float32")):
        with T.Kernel(2, threads=32) as bx:
            tx = T.get_thread_binding()
            v = T.alloc_var("float32", init=0)
            if X[bx * 32 + tx] > 0:
                v = X[bx * 32 + tx] * 2.0
            elif tx % 2 == 0:
                v = -1.0
            else:
                v = v + 5.0
            Y[bx * 32 + tx] = v

    x = torch.randn(64)
    even = (torch.arange(64) % 32) % 2 == 0
    ref = torch.where(x > 0, x * 2, torch.where(even, torch.tensor(-1.0), torch.tensor(5.0)))
    assert torch.equal(_compile(main, [1])(x), ref)


def test_while_loop_with_a_trip_count_per_thread():
    @T.prim_func
    def main(X: T.Tensor((64,), "int32"), Y: T.Tensor((64,), "int32")):
        with T.Kernel(1, threads=64) as bx:
            tx = T.get_thread_binding()
            n = T.alloc_var("int32", init=X[tx])
            steps = T.alloc_var("int32", init=0)
            while n != 1:
                if n % 2 == 0:
                    n = n // 2
                else:
                    n = 3 * n + 1
                steps = steps + 1
            Y[tx] = steps

    def collatz(n):
        s = 0
        while n != 1:
            n, s = (n // 2 if n % 2 == 0 else 3 * n + 1), s + 1
        return s

    x = torch.arange(1, 65, dtype=torch.int32)
    assert _compile(main, [1])(x).tolist() == [collatz(i) for i in range(1, 65)]


def test_serial_loop_with_a_per_thread_extent():
    @T.prim_func
    def main(Y: T.Tensor((32,), "int32")):
        with T.Kernel(1, threads=32) as bx:
            tx = T.get_thread_binding()
            acc = T.alloc_local((1,), "int32")
            acc[0] = 0
            for j in T.serial(tx):
                acc[0] += j
            Y[tx] = acc[0]

    assert _compile(main, [0])().tolist() == [t * (t - 1) // 2 for t in range(32)]


def test_local_arrays_are_private_to_each_thread_with_2d_blocks():
    @T.prim_func
    def main(X: T.Tensor((8, 16), "float32"), Y: T.Tensor((8, 16), "float32")):
        with T.Kernel(1, threads=(4, 8)) as bx:
            tx = T.get_thread_binding(0)
            ty = T.get_thread_binding(1)
            v = T.alloc_local((4,), "float32")
            for i in T.serial(4):
                v[i] = X[ty, tx * 4 + i]
            for i in T.serial(4):
                Y[ty, tx * 4 + i] = v[3 - i]

    x = torch.randn(8, 16)
    assert torch.equal(_compile(main, [1])(x), x.reshape(8, 4, 4).flip(-1).reshape(8, 16))


def test_shfl_xor_butterfly_sums_a_warp():
    @T.prim_func
    def main(X: T.Tensor((64,), "float32"), Y: T.Tensor((64,), "float32")):
        with T.Kernel(1, threads=64) as bx:
            tx = T.get_thread_binding()
            v = T.alloc_var("float32", init=X[tx])
            for s in T.unroll(5):
                v = v + T.shfl_xor(v, 16 >> s)
            Y[tx] = v

    x = torch.randint(-8, 8, (64,)).float()
    ref = x.reshape(2, 32).sum(1).repeat_interleave(32)
    assert torch.equal(_compile(main, [1])(x), ref)


def test_shared_memory_written_by_some_threads_read_by_others():
    @T.prim_func
    def main(X: T.Tensor((64,), "float32"), Y: T.Tensor((64,), "float32")):
        with T.Kernel(1, threads=64) as bx:
            tx = T.get_thread_binding()
            s = T.alloc_shared((64,), "float32")
            s[63 - tx] = X[tx]
            T.sync_threads()
            Y[tx] = s[tx]

    x = torch.randn(64)
    assert torch.equal(_compile(main, [1])(x), x.flip(0))


def _handoff(consumer_first):
    N, tile = 512, 256

    @T.prim_func
    def main(X: T.Tensor((N,), "float32"), Y: T.Tensor((N,), "float32")):
        with T.Kernel(N // tile, threads=256) as bx:
            tx = T.get_thread_binding()
            S = T.alloc_shared((tile,), "float32")
            ready = T.alloc_barrier(128)
            if (tx >= 128) if consumer_first else (tx < 128):
                if consumer_first:
                    T.mbarrier_wait_parity(ready, 0)
                    for r in T.serial(tile // 128):
                        Y[bx * tile + r * 128 + tx - 128] = S[r * 128 + tx - 128] + 1.0
                else:
                    for r in T.serial(tile // 128):
                        S[r * 128 + tx] = X[bx * tile + r * 128 + tx]
                    T.mbarrier_arrive(ready)
            else:
                if consumer_first:
                    for r in T.serial(tile // 128):
                        S[r * 128 + tx] = X[bx * tile + r * 128 + tx]
                    T.mbarrier_arrive(ready)
                else:
                    T.mbarrier_wait_parity(ready, 0)
                    for r in T.serial(tile // 128):
                        Y[bx * tile + r * 128 + tx - 128] = S[r * 128 + tx - 128] + 1.0

    return main


@pytest.mark.parametrize("consumer_first", [False, True])
def test_mbarrier_handoff_in_either_branch_order(consumer_first):
    x = torch.randn(512)
    assert torch.equal(_compile(_handoff(consumer_first), [1])(x), x + 1)


def _ws_gemm(consumer_first, M=128, N=128, K=256, bm=64, bn=64, bk=32, stages=2):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=256) as (bx, by):
            A_s = T.alloc_shared((stages, bm, bk), "float16")
            B_s = T.alloc_shared((stages, bk, bn), "float16")
            C_f = T.alloc_fragment((bm, bn), "float32")
            bars = T.alloc_barrier([128] * stages + [128] * stages)
            with T.ws(0):
                T.clear(C_f)
            for ko in T.serial(K // bk):
                if consumer_first:
                    with T.ws(0):
                        T.mbarrier_wait_parity(bars[ko % stages], (ko // stages) % 2)
                        T.gemm(A_s[ko % stages, :, :], B_s[ko % stages, :, :], C_f)
                        T.mbarrier_arrive(bars[ko % stages + stages])
                with T.ws(1):
                    T.mbarrier_wait_parity(bars[ko % stages + stages], ((ko // stages) % 2) ^ 1)
                    T.tma_copy(A[by * bm:(by + 1) * bm, ko * bk:(ko + 1) * bk], A_s[ko % stages, :, :],
                               barrier=bars[ko % stages])
                    T.tma_copy(B[ko * bk:(ko + 1) * bk, bx * bn:(bx + 1) * bn], B_s[ko % stages, :, :],
                               barrier=bars[ko % stages])
                    T.mbarrier_arrive(bars[ko % stages])
                if not consumer_first:
                    with T.ws(0):
                        T.mbarrier_wait_parity(bars[ko % stages], (ko // stages) % 2)
                        T.gemm(A_s[ko % stages, :, :], B_s[ko % stages, :, :], C_f)
                        T.mbarrier_arrive(bars[ko % stages + stages])
            with T.ws(0):
                T.copy(C_f, C[by * bm, bx * bn])

    return main


@pytest.mark.parametrize("consumer_first", [False, True])
def test_warp_specialized_tma_pipeline_runs_warp_groups_cooperatively(consumer_first):
    a, b = torch.randn(128, 256).half(), torch.randn(256, 128).half()
    out = _compile(_ws_gemm(consumer_first), [2])(a, b)
    assert torch.allclose(out.double(), a.double() @ b.double(), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("expected_bytes", [512, 1024])
def test_expect_tx_holds_the_phase_until_the_tma_bytes_arrive(expected_bytes):
    @T.prim_func
    def main(X: T.Tensor((128,), "float32"), Y: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            tx = T.get_thread_binding()
            S = T.alloc_shared((128,), "float32")
            bar = T.alloc_barrier(1)
            if tx == 0:
                T.mbarrier_arrive_expect_tx(bar, expected_bytes)
                T.tma_copy(X[0:128], S, barrier=bar)  # 512 bytes
            T.mbarrier_wait_parity(bar, 0)
            Y[tx] = S[127 - tx]

    x = torch.randn(128)
    k = _compile(main, [1])
    if expected_bytes == 512:
        assert torch.equal(k(x), x.flip(0))
    else:
        with pytest.raises(DeviceRuntimeError, match="deadlock"):
            k(x)


def test_a_wait_that_never_completes_is_a_deadlock_naming_the_line():
    @T.prim_func
    def main(X: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            tx = T.get_thread_binding()
            bar = T.alloc_barrier(128)
            if tx < 64:
                T.mbarrier_arrive(bar)  # only 64 of the 128 arrivals
            T.mbarrier_wait_parity(bar, 0)
            X[tx] = 1.0

    with pytest.raises(DeviceRuntimeError) as info:
        _compile(main)(torch.zeros(128))
    text = str(info.value)
    assert "deadlock" in text and "T.mbarrier_wait_parity(bar, 0)" in text
    assert "64 of 128 arrivals" in text


def test_thread_binding_loop_binds_the_thread_index():
    @T.prim_func
    def main(Y: T.Tensor((64,), "int32")):
        with T.Kernel(1, threads=64) as bx:
            for t in T.thread_binding(64, thread="threadIdx.x"):
                Y[t] = t * 3

    assert _compile(main, [0])().tolist() == [3 * t for t in range(64)]


def test_tile_code_outside_warp_specialized_sections_runs_once_per_block():
    @T.prim_func
    def main(X: T.Tensor((64,), "float32"), Y: T.Tensor((64,), "float32")):
        with T.Kernel(1, threads=256) as bx:
            f = T.alloc_fragment((64,), "float32")
            bar = T.alloc_barrier(128)
            T.copy(X, f)
            for i in T.Parallel(64):
                f[i] = f[i] * 2.0
            with T.ws(1):
                T.mbarrier_wait_parity(bar, 0)
                T.atomic_add(Y[0:64], f)
            with T.ws(0):
                T.mbarrier_arrive(bar)

    x = torch.randn(64)
    y = torch.zeros(64)
    _compile(main)(x, y)
    assert torch.equal(y, x * 2)


def test_threads_arrive_on_and_wait_for_their_own_barrier():
    @T.prim_func
    def main(X: T.Tensor((128,), "int32")):
        with T.Kernel(1, threads=128) as bx:
            tx = T.get_thread_binding()
            bars = T.alloc_barrier([64, 64])
            T.mbarrier_arrive(bars[tx // 64])
            T.mbarrier_wait_parity(bars[tx // 64], 0)
            X[tx] = tx // 64 + 1

    x = torch.zeros(128, dtype=torch.int32)
    _compile(main)(x)
    assert x.tolist() == [1] * 64 + [2] * 64


def test_many_blocks_run_as_lanes_keep_shared_memory_per_block():
    # 300 blocks of 256 threads: more than one step of blocks run side by side
    @T.prim_func
    def main(X: T.Tensor((300, 256), "float32"), Y: T.Tensor((300, 256), "float32")):
        with T.Kernel(300, threads=256) as bx:
            tx = T.get_thread_binding()
            s = T.alloc_shared((256,), "float32")
            s[tx] = X[bx, tx] + bx
            T.sync_threads()
            Y[bx, tx] = s[255 - tx]

    x = torch.randn(300, 256)
    ref = (x + torch.arange(300).float()[:, None]).flip(1)
    assert torch.equal(_compile(main, [1])(x), ref)


def test_parallel_loop_over_per_thread_values_runs_for_the_live_threads_only():
    @T.prim_func
    def main(X: T.Tensor((256,), "float32"), Y: T.Tensor((256,), "float32")):
        with T.Kernel(1, threads=64) as bx:
            tx = T.get_thread_binding()
            v = T.alloc_local((4,), "float32")
            T.clear(v)
            if tx < 32:
                for i in T.Parallel(4):
                    v[i] = X[tx * 4 + i] + 1.0
            for i in T.serial(4):
                Y[tx * 4 + i] = v[i]

    x = torch.randn(256)
    y = _compile(main, [1])(x)
    assert torch.equal(y[:128], x[:128] + 1) and torch.all(y[128:] == 0)


def test_tile_ops_shared_by_two_warp_groups_run_once():
    @T.prim_func
    def main(A: T.Tensor((16, 16), "float32"), C: T.Tensor((16, 16), "float32")):
        with T.Kernel(1, threads=384) as bx:
            a = T.alloc_shared((16, 16), "float32")
            c = T.alloc_fragment((16, 16), "float32")
            ready = T.alloc_barrier(128)
            with T.ws(2):
                T.copy(A, a)
                T.mbarrier_arrive(ready)
            with T.ws(0, 1):
                T.mbarrier_wait_parity(ready, 0)
                T.clear(c)
                T.gemm(a, a, c)
                T.gemm(a, a, c)
                T.copy(c, C)

    a = torch.randn(16, 16)
    assert torch.allclose(_compile(main, [1])(a), 2 * a @ a, atol=1e-4)


def test_sync_grid_orders_every_block_after_every_other():
    @T.prim_func
    def main(X: T.Tensor((4, 32), "float32"), Y: T.Tensor((4, 32), "float32"), Tmp: T.Tensor((4, 32), "float32")):
        with T.Kernel(4, threads=32) as bx:
            tx = T.get_thread_binding()
            Tmp[bx, tx] = X[bx, tx] * 2.0
            T.sync_grid()
            Y[bx, tx] = Tmp[3 - bx, tx]  # written by another block before the grid barrier

    x = torch.randn(4, 32)
    y = torch.zeros(4, 32)
    _compile(main)(x, y, torch.zeros(4, 32))
    assert torch.equal(y, (x * 2).flip(0))
