"""Scalar semantics on the CPU backend: float16 rounds after each op, integers wrap, `/`
on ints truncates while `//` and `%` floor, guarded loads, math intrinsics, narrow floats."""
import numpy as np
import pytest
import torch

import tilelang
import tilelang.language as T


def _compile(func, out_idx=None):
    return tilelang.compile(func, out_idx=out_idx, target="cpu")


def _elementwise(dtype_in, dtype_out, fn, n=64):
    @T.prim_func
    def main(X: T.Tensor((n,), dtype_in), Y: T.Tensor((n,), dtype_out)):
        with T.Kernel(1, threads=32) as bx:
            for i in T.Parallel(n):
                Y[i] = fn(X[i])

    return _compile(main, [1])


def test_float16_arithmetic_rounds_after_every_operation():
    k = _elementwise("float16", "float16", lambda x: x * x + x - 0.1)
    x = (torch.randn(64) * 30).half()
    ref = x * x + x - torch.tensor(0.1).half()  # torch rounds each f16 op as well
    assert torch.equal(k(x), ref)
    wide = (x.float() * x.float() + x.float() - 0.1).half()
    assert not torch.equal(ref, wide)  # the check could fail if rounding were skipped


def test_int32_arithmetic_wraps():
    k = _elementwise("int32", "int32", lambda x: x * 1000003 + 2147483000)
    x = torch.randint(-2**31, 2**31 - 1, (64,), dtype=torch.int32)
    ref = (x.numpy().astype(np.int64) * 1000003 + 2147483000).astype(np.int32)
    assert np.array_equal(k(x).numpy(), ref)


def test_integer_division_truncates_with_slash_and_floors_with_floordiv():
    @T.prim_func
    def main(A: T.Tensor((16,), "int32"), B: T.Tensor((16,), "int32"), Q: T.Tensor((4, 16), "int32")):
        with T.Kernel(1, threads=16) as bx:
            for i in T.Parallel(16):
                Q[0, i] = T.truncdiv(A[i], B[i])
                Q[1, i] = A[i] // B[i]
                Q[2, i] = T.truncmod(A[i], B[i])
                Q[3, i] = A[i] % B[i]

    a = torch.tensor([7, -7, 7, -7] * 4, dtype=torch.int32)
    b = torch.tensor([2, 2, -2, -2] * 4, dtype=torch.int32)
    q = _compile(main, [2])(a, b)
    assert q[0, :4].tolist() == [3, -3, -3, 3]
    assert q[1, :4].tolist() == [3, -4, -4, 3]
    assert q[2, :4].tolist() == [1, -1, 1, -1]
    assert q[3, :4].tolist() == [1, 1, -1, -1]


def test_if_then_else_guards_an_out_of_bounds_load():
    @T.prim_func
    def main(A: T.Tensor((10,), "float32"), Y: T.Tensor((16,), "float32")):
        with T.Kernel(1, threads=16) as bx:
            for i in T.Parallel(16):
                Y[i] = T.if_then_else(i < 10, A[T.min(i, 100)], -1.0)

    a = torch.randn(10)
    y = _compile(main, [1])(a)
    assert torch.equal(y[:10], a) and torch.all(y[10:] == -1)


def test_short_circuit_and_guards_a_load_in_thread_code():
    @T.prim_func
    def main(A: T.Tensor((10,), "float32"), Y: T.Tensor((16,), "int32")):
        with T.Kernel(1, threads=16) as bx:
            tx = T.get_thread_binding()
            Y[tx] = 0
            if tx < 10 and A[tx] > 0:
                Y[tx] = 1

    a = torch.randn(10)
    y = _compile(main, [1])(a)
    assert y[:10].tolist() == (a > 0).int().tolist() and y[10:].sum() == 0


@pytest.mark.parametrize("name,ref", [
    ("exp", torch.exp), ("exp2", torch.exp2), ("rsqrt", lambda x: torch.rsqrt(x.abs() + 1)),
    ("sigmoid", torch.sigmoid), ("erf", torch.erf), ("tanh", torch.tanh), ("log", lambda x: torch.log(x.abs() + 1)),
])
def test_math_intrinsics(name, ref):
    fn = getattr(T, name)
    wrap = (lambda x: fn(T.abs(x) + 1.0)) if name in ("rsqrt", "log") else fn
    k = _elementwise("float32", "float32", wrap)
    x = torch.randn(64)
    assert torch.allclose(k(x), ref(x), rtol=1e-5, atol=1e-6)


def test_round_is_half_away_from_zero_and_float_to_int_truncates():
    k = _elementwise("float32", "int32", lambda x: T.cast(T.round(x), "int32") * 100 + T.cast(x, "int32"))
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -2.5, 1.7, -1.7] + [0.0] * 57)
    y = k(x)
    assert y[:7].tolist() == [100, 201, 302, -100, -302, 201, -201]


@pytest.mark.parametrize("dtype,torch_dtype", [("bfloat16", torch.bfloat16), ("float8_e4m3", torch.float8_e4m3fn),
                                               ("float8_e5m2", torch.float8_e5m2)])
def test_narrow_float_casts_round_like_torch(dtype, torch_dtype):
    k = _elementwise("float32", dtype, lambda x: T.cast(x, dtype))
    x = torch.randn(64) * 4
    assert torch.equal(k(x).float(), x.to(torch_dtype).float())


def test_bfloat16_tiles_compute_through_float32():
    @T.prim_func
    def main(X: T.Tensor((8, 8), "bfloat16"), Y: T.Tensor((8, 8), "float32")):
        with T.Kernel(1, threads=32) as bx:
            x = T.alloc_fragment((8, 8), "bfloat16")
            T.copy(X, x)
            for i, j in T.Parallel(8, 8):
                Y[i, j] = T.exp(x[i, j]) + T.cast(x[i, j], "float32")

    x = torch.randn(8, 8).bfloat16()
    y = _compile(main, [1])(x)
    assert torch.allclose(y, torch.exp(x).float() + x.float(), rtol=1e-2)


def test_bitwise_and_shifts():
    k = _elementwise("int32", "int32", lambda x: ((x << 3) ^ (x >> 1)) & 0xFFFF | 1)
    x = torch.randint(-1000, 1000, (64,), dtype=torch.int32)
    xn = x.numpy()
    assert np.array_equal(k(x).numpy(), ((xn << 3) ^ (xn >> 1)) & 0xFFFF | 1)


def test_scalar_parameters_and_dynamic_sizes():
    n = T.dynamic("n")

    @T.prim_func
    def main(X: T.Tensor((n,), "float32"), alpha: T.float32, Y: T.Tensor((n,), "float32")):
        with T.Kernel(T.ceildiv(n, 32), threads=32) as bx:
            for i in T.Parallel(32):
                if bx * 32 + i < n:
                    Y[bx * 32 + i] = X[bx * 32 + i] * alpha

    k = _compile(main, [2])
    for size in (5, 70):
        x = torch.randn(size)
        assert torch.allclose(k(x, 1.5), x * 1.5)


def test_float_to_int_casts_saturate_and_nan_becomes_zero():
    k = _elementwise("float32", "int8", lambda x: T.cast(x, "int8"), n=5)
    x = torch.tensor([1000.0, -1000.0, float("nan"), 126.9, -128.5])
    assert k(x).tolist() == [127, -128, 0, 126, -128]


def test_max_and_min_ignore_a_nan_operand_like_fmaxf():
    k = _elementwise("float32", "float32", lambda x: T.max(x, 0.0) + T.min(x, 1.0), n=3)
    x = torch.tensor([float("nan"), -2.0, 3.0])
    assert k(x).tolist() == [1.0, -2.0, 4.0]
