"""Tile ops on the CPU backend: copies clip at the edges and cast, gemm accumulates in C's
dtype, reductions and cumsum along either dim, tile and scalar atomics."""
import pytest
import torch

import tilelang
import tilelang.language as T


def _compile(func, out_idx=None):
    return tilelang.compile(func, out_idx=out_idx, target="cpu")


def test_copy_tail_tiles_clip_reads_and_drop_writes():
    M, N, bm, bn = 50, 37, 32, 16

    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), Y: T.Tensor((M, N), "float32"), Z: T.Tensor((bm, bn), "float32")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=32) as (bx, by):
            s = T.alloc_shared((bm, bn), "float32")
            T.copy(X[by * bm, bx * bn], s)
            T.copy(s, Y[by * bm, bx * bn])
            if bx == 2 and by == 1:
                T.copy(s, Z)  # the last tile: rows >= 18 and cols >= 5 read as 0

    x = torch.randn(M, N)
    y = torch.full((M, N), 7.0)
    z = torch.full((bm, bn), 7.0)
    _compile(main)(x, y, z)
    assert torch.equal(y, x)
    expect = torch.zeros(bm, bn)
    expect[:M - bm, :N - 2 * bn] = x[bm:, 2 * bn:]
    assert torch.equal(z, expect)


def test_copy_with_a_point_origin_and_leading_unit_dims_casts():
    @T.prim_func
    def main(A: T.Tensor((3, 8, 16), "float32"), B: T.Tensor((3, 8, 16), "float16")):
        with T.Kernel(3, threads=32) as bz:
            s = T.alloc_shared((8, 16), "float16")
            T.copy(A[bz, 0, 0], s)
            T.copy(s, B[bz, 0:8, 0:16])

    a = torch.randn(3, 8, 16) * 1000
    assert torch.equal(_compile(main, [1])(a), a.half())


def test_fill_and_clear_on_regions():
    @T.prim_func
    def main(Y: T.Tensor((8, 8), "int32")):
        with T.Kernel(1, threads=32) as bx:
            f = T.alloc_fragment((8, 8), "int32")
            T.fill(f, 3)
            T.clear(f[2:4, :])
            T.fill(f[:, 6], -1)
            T.copy(f, Y)

    expect = torch.full((8, 8), 3, dtype=torch.int32)
    expect[2:4] = 0
    expect[:, 6] = -1
    assert torch.equal(_compile(main, [0])(), expect)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_gemm_transposes_accumulate_in_float32(ta, tb):
    M, N, K = 32, 48, 64

    @T.prim_func
    def main(A: T.Tensor((K, M) if ta else (M, K), "float16"), B: T.Tensor((N, K) if tb else (K, N), "float16"),
             C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            a = T.alloc_shared((K, M) if ta else (M, K), "float16")
            b = T.alloc_shared((N, K) if tb else (K, N), "float16")
            c = T.alloc_fragment((M, N), "float32")
            T.copy(A, a)
            T.copy(B, b)
            T.fill(c, 1.0)
            T.gemm(a, b, c, transpose_A=ta, transpose_B=tb)
            T.copy(c, C)

    a = torch.randn(*((K, M) if ta else (M, K))).half()
    b = torch.randn(*((N, K) if tb else (K, N))).half()
    ref = (a.double().T if ta else a.double()) @ (b.double().T if tb else b.double()) + 1
    out = _compile(main, [2])(a, b)
    assert torch.allclose(out.double(), ref, rtol=1e-5, atol=1e-4)


def test_gemm_int8_accumulates_in_int32_and_clear_accum_overwrites():
    @T.prim_func
    def main(A: T.Tensor((2, 16, 32), "int8"), B: T.Tensor((32, 16), "int8"), C: T.Tensor((16, 16), "int32")):
        with T.Kernel(1, threads=128) as bx:
            a = T.alloc_shared((1, 16, 32), "int8")
            c = T.alloc_fragment((16, 16), "int32")
            T.fill(c, 5)
            T.copy(A[1, 0, 0], a)
            T.gemm(a, B, c, clear_accum=True)  # region with a leading unit dim; B straight from global
            T.copy(c, C)

    a = torch.randint(-128, 128, (2, 16, 32), dtype=torch.int8)
    b = torch.randint(-128, 128, (32, 16), dtype=torch.int8)
    assert torch.equal(_compile(main, [2])(a, b), (a[1].long() @ b.long()).int())


@pytest.mark.parametrize("kind", ["sum", "max", "min", "abssum", "absmax"])
@pytest.mark.parametrize("dim", [0, 1])
def test_reduce_kinds_along_each_dim_and_clear_false_combines(kind, dim):
    @T.prim_func
    def main(X: T.Tensor((16, 24), "float32"), Y: T.Tensor((24 if dim == 0 else 16,), "float32"),
             Z: T.Tensor((24 if dim == 0 else 16,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            x = T.alloc_fragment((16, 24), "float32")
            r = T.alloc_fragment((24 if dim == 0 else 16,), "float32")
            T.copy(X, x)
            T.reduce(x, r, kind, dim=dim)
            T.copy(r, Y)
            T.reduce(x, r, kind, dim=dim, clear=False)
            T.copy(r, Z)

    x = torch.randn(16, 24)
    src = x.abs() if kind.startswith("abs") else x
    op = {"sum": lambda t: t.sum(dim), "abssum": lambda t: t.sum(dim), "max": lambda t: t.amax(dim),
          "absmax": lambda t: t.amax(dim), "min": lambda t: t.amin(dim)}[kind]
    y, z = _compile(main, [1, 2])(x)
    ref = op(src)
    assert torch.allclose(y, ref, atol=1e-5)
    twice = ref * 2 if "sum" in kind else ref
    assert torch.allclose(z, twice, atol=1e-5)


@pytest.mark.parametrize("dim,reverse", [(0, False), (1, False), (1, True)])
def test_cumsum(dim, reverse):
    @T.prim_func
    def main(X: T.Tensor((8, 12), "float32"), Y: T.Tensor((8, 12), "float32")):
        with T.Kernel(1, threads=32) as bx:
            s = T.alloc_shared((8, 12), "float32")
            T.copy(X, s)
            T.cumsum(s, dim=dim, reverse=reverse)
            T.copy(s, Y)

    x = torch.randn(8, 12)
    ref = x.flip(dim).cumsum(dim).flip(dim) if reverse else x.cumsum(dim)
    assert torch.allclose(_compile(main, [1])(x), ref, atol=1e-5)


def test_tile_atomic_add_from_every_block_and_scalar_atomic_max():
    @T.prim_func
    def main(X: T.Tensor((4, 8), "float32"), S: T.Tensor((8,), "float32"), Mx: T.Tensor((1,), "float32")):
        with T.Kernel(4, threads=32) as bx:
            row = T.alloc_fragment((8,), "float32")
            T.copy(X[bx, 0], row)
            T.atomic_add(S[0:8], row)
            for j in T.Parallel(8):
                T.atomic_max(Mx[0], row[j])

    x = torch.randn(4, 8)
    s, mx = torch.zeros(8), torch.full((1,), -1e9)
    _compile(main)(x, s, mx)
    assert torch.allclose(s, x.sum(0), atol=1e-6)
    assert mx.item() == x.max().item()


def test_scalar_atomic_is_done_once_per_thread():
    @T.prim_func
    def main(C: T.Tensor((1,), "int32")):
        with T.Kernel(3, threads=(32, 2)) as bx:
            T.atomic_add(C[0], 1)

    c = torch.zeros(1, dtype=torch.int32)
    _compile(main)(c)
    assert c.item() == 3 * 64


def test_parallel_with_serial_inner_loop_and_guard():
    @T.prim_func
    def main(A: T.Tensor((10, 16), "float32"), Y: T.Tensor((10,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            acc = T.alloc_fragment((16,), "float32")
            T.clear(acc)
            for i in T.Parallel(16):
                for k in T.serial(16):
                    if i < 10:
                        acc[i] += A[i, k] * 2.0
            for i in T.Parallel(16):
                if i < 10:
                    Y[i] = acc[i]

    a = torch.randn(10, 16)
    assert torch.allclose(_compile(main, [1])(a), a.sum(1) * 2, atol=1e-5)


def test_copies_with_a_per_thread_origin_into_and_out_of_local_arrays():
    @T.prim_func
    def main(X: T.Tensor((1000,), "float32"), Y: T.Tensor((1000,), "float32")):
        with T.Kernel(2, threads=128) as bx:
            tx = T.get_thread_binding()
            v = T.alloc_local((4,), "float32")
            w = T.alloc_local((4,), "float32")
            T.copy(X[(bx * 128 + tx) * 4], v)
            for i in T.unroll(4):
                w[i] = v[3 - i]
            T.copy(w, Y[(bx * 128 + tx) * 4])

    x = torch.randn(1000)
    y = _compile(main, [1])(x)
    assert torch.equal(y, x.reshape(-1, 4).flip(-1).reshape(-1))



def test_tile_atomic_add_into_a_point_destination_clips_the_tail():
    @T.prim_func
    def main(X: T.Tensor((50, 30), "float32"), S: T.Tensor((30,), "float32")):
        with T.Kernel(T.ceildiv(30, 16), T.ceildiv(50, 16), threads=64) as (bx, by):
            f = T.alloc_fragment((16, 16), "float32")
            T.copy(X[by * 16, bx * 16], f)
            T.atomic_add(S[bx * 16], f[0, :])  # point destination, tile value (as in split-K epilogues)

    x = torch.randn(50, 30)
    s = torch.zeros(30)
    _compile(main)(x, s)
    assert torch.allclose(s, x[::16].sum(0), atol=1e-6)


def test_serial_loop_inside_parallel_with_a_trip_count_per_iteration():
    @T.prim_func
    def main(A: T.Tensor((16,), "float32"), Y: T.Tensor((16,), "float32")):
        with T.Kernel(1, threads=32) as bx:
            acc = T.alloc_fragment((16,), "float32")
            T.clear(acc)
            for i in T.Parallel(16):
                for k in T.serial(i + 1):
                    acc[i] += A[k]
            T.copy(acc, Y)

    a = torch.randn(16)
    assert torch.allclose(_compile(main, [1])(a), a.cumsum(0), atol=1e-5)


def test_parallel_only_kernels_run_their_blocks_as_a_loop_axis_in_steps(monkeypatch):
    import tilelang.backend.cpu.grid as grid

    monkeypatch.setattr(grid, "MAX_ELEMENTS", 100)  # 3 blocks of 32 iterations per step

    @T.prim_func
    def main(A: T.Tensor((7, 50), "float32"), B: T.Tensor((7, 50), "float32"), S: T.Tensor((1,), "float32")):
        with T.Kernel(2, 7, threads=32) as (bx, by):
            if bx * 32 < 50 - by:  # a block-dependent branch around the tile loop
                for j in T.Parallel(32):
                    if bx * 32 + j < 50:
                        B[by, bx * 32 + j] = A[by, bx * 32 + j] + by
            for r in T.serial(by):  # a block-dependent trip count
                for j in T.Parallel(32):
                    if bx * 32 + j < 50:
                        T.atomic_add(S[0], 1.0)

    a = torch.randn(7, 50)
    b = torch.zeros(7, 50)
    s = torch.zeros(1)
    _compile(main)(a, b, s)
    assert torch.equal(b, a + torch.arange(7).float()[:, None])
    assert s.item() == 50 * sum(range(7))
