"""The generated CUDA, compiled as host C++ (host_shim.h) and run thread by thread, computes what
the program says: every classic-style conformance case (sm_80 lowering; T.gemm runs as a host
GEMM over the kernel's own layout tables, so tl_gemm.cuh itself is checked on GPUs only), and
lowering corner cases."""
import importlib
import os
import pathlib
import sys

import pytest

torch = pytest.importorskip("torch")

import tilelang.language as T  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from host_cuda import CXX, HostKernel  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
CONFORMANCE = pathlib.Path(os.environ.get("TILELANG_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance"))

pytestmark = pytest.mark.skipif(CXX is None, reason="no host C++ compiler")

HOST_CASES = [
    ("elementwise", "add_1d_tail"), ("elementwise", "add_2d_tiles_f16"), ("elementwise", "add_2d_tiles_tail"),
    ("elementwise", "scale_cast_f16_f32"), ("elementwise", "where_clamp"),
    ("simt", "gemv_thread_per_row"), ("simt", "splitk_gemv_2d_threads"), ("simt", "row_argmax_alloc_var"),
    ("simt", "transpose_shared"), ("simt", "local_vector_reverse"),
    ("reduce", "softmax_rows"), ("reduce", "rmsnorm_f16"), ("reduce", "column_max"), ("reduce", "atomic_sum"),
    ("barrier", "barrier_handoff"), ("barrier", "ws_gemm_tma_sm90"),
    ("dynamic", "dynamic_rows_add"), ("dynamic", "dynamic_m_gemm"),
    ("gemm", "gemm_f16_256x256x128"), ("gemm", "gemm_f16_128x128x32_3stage"), ("gemm", "gemm_bf16_nt_f32out"),
    ("gemm", "gemm_f16_tn"), ("gemm", "gemm_f16_tail"), ("gemm", "gemm_f16_single_stage"), ("gemm", "gemm_bias_relu"),
    ("gemm", "gemm_batched"), ("gemm", "gemm_int8_nt_int32"),
    ("attention", "flash_fwd"), ("attention", "flash_fwd_causal"), ("attention", "flash_fwd_d128_2stage"),
]


def _conformance():
    if not CONFORMANCE.exists():
        pytest.skip(f"conformance suite not found at {CONFORMANCE}")
    for p in (str(CONFORMANCE), str(CONFORMANCE / "cases")):
        if p not in sys.path:
            sys.path.insert(0, p)
    return importlib.import_module("harness")


def run(func, inputs, out_idx=(), arch="sm_80"):
    """Outputs `out_idx` allocated (zeros), the kernel run on the host; returns every argument."""
    full, it = [], iter(inputs)
    for i, p in enumerate(func.params):
        if i in out_idx:
            shape = []
            for s in p.shape:
                shape.append(int(s) if not hasattr(s, "name") else None)
            if None in shape:  # a symbolic size: the first input with that dim gives it
                known = {d: int(t.shape[k]) for t, q in zip(inputs, func.params) for k, d in enumerate(getattr(q, "shape", ()))}
                shape = [int(s) if not hasattr(s, "name") else known[s] for s in p.shape]
            full.append(torch.zeros(shape, dtype=p.dtype.torch))
        else:
            full.append(next(it))
    HostKernel(func, arch)(*full)
    return full


@pytest.mark.parametrize("module, name, arch", [c + ("sm_80",) for c in HOST_CASES] +
                         [("barrier", "ws_gemm_tma_sm90", "sm_90a")],  # TMA boxes + wgmma lowering
                         ids=[f"{m}.{n}" for m, n in HOST_CASES] + ["barrier.ws_gemm_tma_sm90-sm_90a"])
def test_conformance_case_on_the_host(module, name, arch):
    harness = _conformance()
    case = next(c for c in importlib.import_module(module).CASES if c.name == name)
    inputs = list(case.inputs(torch.Generator().manual_seed(1234)))
    refs = case.reference(*[x.clone() for x in inputs])
    func = case.build()
    out_idx = list(case.out_idx or [])
    if case.jit_call is not None:  # dynamic: the same kernel on two sets of inputs
        half = len(inputs) // 2
        outs = [run(func, inputs[:half], out_idx, arch)[out_idx[0]], run(func, inputs[half:], out_idx, arch)[out_idx[0]]]
    else:
        full = run(func, inputs, out_idx, arch)
        outs = [full[i] for i in (out_idx or case.inplace)]
    why = harness.check(outs, refs, case.tol, case.exact)
    assert why is None, why


@T.prim_func
def scan_rows(A: T.Tensor((16, 64), "float32"), B: T.Tensor((16, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        f = T.alloc_fragment((16, 64), "float32")
        T.copy(A, f)
        T.cumsum(f, dim=1, reverse=True)
        T.copy(f, B)


@T.prim_func
def column_sums(X: T.Tensor((256, 64), "float32"), Out: T.Tensor((64,), "float32")):
    with T.Kernel(4, threads=128) as bx:
        x = T.alloc_fragment((64,), "float32")
        s = T.alloc_fragment((64, 64), "float32")
        T.copy(X[bx * 64, 0], s)
        T.reduce_sum(s, x, dim=0)
        T.atomic_add(Out[0:64], x)


@T.prim_func
def panels(A: T.Tensor((256, 200), "float32"), B: T.Tensor((256, 200), "float32")):
    with T.Kernel(T.ceildiv(200, 32), 8, threads=128) as (bx, by):
        T.use_swizzle(panel_size=4)
        for i, j in T.Parallel(32, 32):
            if bx * 32 + j < 200:
                B[by * 32 + i, bx * 32 + j] = A[by * 32 + i, bx * 32 + j] * 2.0


@T.prim_func
def rowmax_keep(X: T.Tensor((64, 512), "float32"), Y: T.Tensor((64,), "float32")):
    with T.Kernel(2, threads=256) as bx:
        x = T.alloc_fragment((32, 512), "float32")
        m = T.alloc_fragment((32,), "float32")
        T.fill(m, 0.5)
        T.copy(X[bx * 32, 0], x)
        T.reduce_max(x, m, dim=1, clear=False)
        T.copy(m, Y[bx * 32])


@T.prim_func
def ws_stage(A: T.Tensor((512,), "float32"), B: T.Tensor((512,), "float32")):
    with T.Kernel(2, threads=256) as bx:
        S_ = T.alloc_shared((256,), "float32")
        bar = T.alloc_barrier(128)
        with T.ws(1):
            T.copy(A[bx * 256], S_)
            T.mbarrier_arrive(bar)
        with T.ws(0):
            T.mbarrier_wait_parity(bar, 0)
            for i in T.Parallel(256):
                B[bx * 256 + i] = S_[255 - i] + 1.0


@T.prim_func
def mixed_add(A: T.Tensor((64, 64), "float16"), B: T.Tensor((64, 64), "float16"), C: T.Tensor((64, 64), "float16")):
    with T.Kernel(1, threads=128) as bx:
        A_s = T.alloc_shared((64, 64), "float16")
        c = T.alloc_fragment((64, 64), "float16")
        T.copy(A, A_s)
        for i, j in T.Parallel(64, 64):
            c[i, j] = A_s[i, j] + B[i, j]
        T.copy(c, C)


@T.prim_func
def floors(Y: T.Tensor((8,), "int32"), Z: T.Tensor((8,), "int32")):
    with T.Kernel(1, threads=32) as bx:
        tx = T.get_thread_binding()
        for i in T.serial(-4, 4):
            if i + 4 == tx:
                Y[tx] = i // 3
                Z[tx] = i % 3


def test_fragment_cumsum():
    a = torch.randn(16, 64)
    (_, b) = run(scan_rows, [a], [1])
    torch.testing.assert_close(b, a.flip(1).cumsum(1).flip(1), rtol=1e-4, atol=1e-4)


def test_tile_atomics_from_a_replicated_fragment():
    x = torch.randn(256, 64)
    out = torch.zeros(64)
    run(column_sums, [x, out])
    torch.testing.assert_close(out, x.sum(0), rtol=1e-4, atol=1e-4)


def test_block_swizzle_covers_the_grid():
    a = torch.randn(256, 200)
    (_, b) = run(panels, [a], [1])
    torch.testing.assert_close(b, a * 2)


def test_reduce_across_warps_with_clear_false():
    x = torch.randn(64, 512) - 3
    (_, y) = run(rowmax_keep, [x], [1])
    torch.testing.assert_close(y, x.max(1).values.clamp(min=0.5))


def test_warp_specialized_handoff_through_an_mbarrier():
    a = torch.randn(512)
    (_, b) = run(ws_stage, [a], [1])
    torch.testing.assert_close(b, a.reshape(2, 256).flip(1).reshape(-1) + 1)


def test_vectorized_parallel_loop():
    a, b = torch.randn(64, 64).half(), torch.randn(64, 64).half()
    (_, _, c) = run(mixed_add, [a, b], [2])
    torch.testing.assert_close(c, a + b)


def test_floor_division_of_negative_numbers():
    y, z = torch.zeros(8, dtype=torch.int32), torch.zeros(8, dtype=torch.int32)
    run(floors, [y, z])
    i = torch.arange(-4, 4, dtype=torch.int32)
    assert torch.equal(y, torch.div(i, 3, rounding_mode="floor")) and torch.equal(z, i % 3)


def tma_tile(swizzled: bool):
    @T.prim_func
    def tma_tile(A: T.Tensor((200, 128), "float16"), B: T.Tensor((256, 128), "float16")):
        with T.Kernel(2, threads=256) as bx:
            A_s = T.alloc_shared((128, 128), "float16")
            bar = T.alloc_barrier(128)
            if swizzled:
                from tilelang.layout import swizzled as swz

                T.annotate_layout({A_s: swz((128, 128), 16, 128)})
            with T.ws(1):
                T.tma_copy(A[bx * 128:(bx + 1) * 128, 0:128], A_s, barrier=bar)
                T.mbarrier_arrive(bar)
            with T.ws(0):
                T.mbarrier_wait_parity(bar, 0)
                T.copy(A_s, B[bx * 128, 0])

    return tma_tile


@pytest.mark.parametrize("swizzled", [False, True])
def test_tma_tiles_land_where_the_layout_says_and_zero_fill(swizzled):
    a = torch.randn(200, 128).half()
    func = tma_tile(swizzled)
    (_, b) = run(func, [a], [1], "sm_90a")
    assert "tl::tma_load_2d" in HostKernel(func, "sm_90a").source
    torch.testing.assert_close(b[:200], a)
    assert torch.count_nonzero(b[200:]) == 0


@T.prim_func
def fragment_parts(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_fragment((64, 64), "float32")
        T.fill(x, -1.0)
        T.copy(A[0:32, 8:40], x[16:48, 0:32])
        T.copy(x[0:48, 0:32], B[8:56, 32:64])


def test_copies_of_boxes_inside_fragments():
    a = torch.randn(64, 64)
    (_, b) = run(fragment_parts, [a], [1])
    x = torch.full((64, 64), -1.0)
    x[16:48, 0:32] = a[0:32, 8:40]
    ref = torch.zeros(64, 64)
    ref[8:56, 32:64] = x[0:48, 0:32]
    torch.testing.assert_close(b, ref)


def test_int4_dequant_gemm_example():
    sys.path.insert(0, str(REPO / "examples"))
    dq = importlib.import_module("dequant_gemm_int4")
    kw = dq.SIZES["small"]
    m, n, k = kw["M"], kw["N"], kw["K"]
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(m, k, generator=gen).half()
    w = torch.randint(-8, 8, (n, k), generator=gen)
    packed, scale = dq.pack_int4(w), (torch.rand(n, generator=gen) * 0.02 + 0.01).half()
    (_, _, _, c) = run(dq.dequant_matmul.get_tir(**kw), [a, packed, scale], [3])
    ref = (a.float() @ w.float().T) * scale.float()
    torch.testing.assert_close(c.float(), ref, rtol=1e-2, atol=2e-2)


def dynamic_scale():
    n = T.dynamic("n")

    @T.prim_func
    def scale(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(n):
                B[i] = A[i] * 3.0

    return scale


def test_parallel_loop_over_a_symbolic_extent():
    func = dynamic_scale()
    for size in (5, 300):
        a = torch.randn(size)
        (_, b) = run(func, [a], [1])
        torch.testing.assert_close(b, a * 3)


@T.prim_func
def fill_part(B: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_fragment((32, 32), "float32")
        T.fill(x, 1.0)
        T.fill(x[8:16, 4:20], 5.0)
        T.copy(x, B)


def test_fill_of_a_box_inside_a_fragment():
    (b,) = run(fill_part, [], [0])
    ref = torch.ones(32, 32)
    ref[8:16, 4:20] = 5.0
    torch.testing.assert_close(b, ref)


def guarded_add(n):
    @T.prim_func
    def guarded(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(T.ceildiv(n, 256), threads=128) as bx:
            for i in T.Parallel(256):
                if bx * 256 + i < n:
                    B[bx * 256 + i] = A[bx * 256 + i] + 1.0

    return guarded


@pytest.mark.parametrize("n, vectorized", [(1000, True), (999, False)])
def test_guarded_parallel_loops_vectorize_only_when_the_bound_is_aligned(n, vectorized):
    func = guarded_add(n)
    assert ("reinterpret_cast<uint2*>" in HostKernel(func).source) == vectorized
    a = torch.randn(n)
    (_, b) = run(func, [a], [1])
    torch.testing.assert_close(b, a + 1)


@T.prim_func
def misaligned(X: T.Tensor((130,), "float32"), Y: T.Tensor((128,), "float32")):
    with T.Kernel(1, threads=32) as bx:
        tx = T.get_thread_binding()
        v = T.alloc_local((4,), "float32")
        for i in T.vectorized(4):
            v[i] = X[tx * 4 + 1 + i]
        for i in T.vectorized(4):
            Y[tx * 4 + i] = v[i]


def test_a_user_vectorized_loop_at_an_unaligned_start_stays_scalar():
    # reading 16 bytes at an odd float offset would fault on a GPU: only the aligned store is a vector
    src = HostKernel(misaligned).source
    assert "reinterpret_cast<const uint4*>(&X" not in src and "reinterpret_cast<uint4*>(&Y" in src
    x = torch.randn(130)
    (_, y) = run(misaligned, [x], [1])
    torch.testing.assert_close(y, x[1:129])


@T.prim_func
def failing_assert(X: T.Tensor((32,), "float32")):
    with T.Kernel(1, threads=32) as bx:
        tx = T.get_thread_binding()
        T.device_assert(X[tx] < 0.0, "X must be negative")


def test_a_kernel_that_aborts_fails_the_test_not_the_test_process():
    with pytest.raises(AssertionError, match="X must be negative"):
        run(failing_assert, [torch.ones(32)])


@T.prim_func
def print_element(A: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_fragment((64, 64), "float32")
        T.copy(A, x)
        T.print(x[5, 7], msg="x57")


def test_printing_a_fragment_element_prints_it_once_from_its_holder(capfd):
    a = torch.arange(64 * 64, dtype=torch.float32).reshape(64, 64)
    run(print_element, [a])
    out = capfd.readouterr().out
    assert out.count("x57:") == 1 and out.strip().endswith(": 327.000000")


@T.prim_func
def print_rows(A: T.Tensor((16, 32), "float32")):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_fragment((16, 32), "float32")
        m = T.alloc_fragment((16,), "float32")
        T.copy(A, x)
        T.reduce_max(x, m, dim=1)
        T.print(m, msg="rowmax")


def test_printing_a_replicated_fragment_prints_each_element_once(capfd):
    a = torch.randn(16, 32)
    run(print_rows, [a])
    lines = [ln for ln in capfd.readouterr().out.splitlines() if ln.startswith("rowmax")]
    assert len(lines) == 16
    got = {int(ln.split("[")[1].split("]")[0]): float(ln.split("= ")[1]) for ln in lines}
    torch.testing.assert_close(torch.tensor([got[i] for i in range(16)]), a.max(1).values, rtol=1e-5, atol=1e-6)


@T.prim_func
def ws_reduce(X: T.Tensor((4, 512), "float32"), Y: T.Tensor((4,), "float32")):
    with T.Kernel(1, threads=256) as bx:
        x = T.alloc_fragment((4, 512), "float32")
        s = T.alloc_fragment((4,), "float32")
        with T.ws(1):
            T.copy(X, x)
            T.reduce_sum(x, s, dim=1)
            T.copy(s, Y)


def test_reduce_across_warps_inside_a_warp_group():
    src = HostKernel(ws_reduce).source
    assert "tl::named_barrier_sync(2, 128);" in src and "__syncthreads();" not in src.split("T.ws(1)")[1]
    x = torch.randn(4, 512)
    (_, y) = run(ws_reduce, [x], [1])
    torch.testing.assert_close(y, x.sum(1), rtol=1e-4, atol=1e-4)


@T.prim_func
def cast_copies(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        S_ = T.alloc_shared((64, 64), "float16")
        T.copy(A, S_)
        T.copy(S_, B)


def test_casting_copies_between_global_and_shared_move_vectors():
    src = HostKernel(cast_copies).source
    assert "tl_ld0" in src and "tl_vec" in src  # read as vectors, converted in registers, stored as vectors
    a = torch.randn(64, 64)
    (_, b) = run(cast_copies, [a], [1])
    torch.testing.assert_close(b, a.half().float())
