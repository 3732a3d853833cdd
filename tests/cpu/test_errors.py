"""Runtime errors name the user's source line; T.print and T.device_assert work on the CPU."""
import pytest
import torch

import tilelang
import tilelang.language as T
from tilelang.errors import DeviceRuntimeError


def _compile(func, out_idx=None):
    return tilelang.compile(func, out_idx=out_idx, target="cpu")


def test_out_of_bounds_store_in_thread_code_names_the_line_and_block():
    @T.prim_func
    def main(X: T.Tensor((100,), "float32")):
        with T.Kernel(2, threads=64) as bx:
            tx = T.get_thread_binding()
            X[bx * 64 + tx] = 1.0

    with pytest.raises(DeviceRuntimeError) as info:
        _compile(main)(torch.zeros(100))
    text = str(info.value)
    assert "X[bx * 64 + tx] = 1.0" in text and "test_errors.py" in text
    assert "(100,)" in text and "bx=1" in text


def test_out_of_bounds_load_in_a_parallel_loop_is_an_error():
    @T.prim_func
    def main(A: T.Tensor((10,), "float32"), Y: T.Tensor((16,), "float32")):
        with T.Kernel(1, threads=32) as bx:
            for i in T.Parallel(16):
                Y[i] = A[i] + 1.0

    with pytest.raises(DeviceRuntimeError, match="out-of-bounds read of A") as info:
        _compile(main, [1])(torch.zeros(10))
    assert "Y[i] = A[i] + 1.0" in str(info.value)


def test_device_assert_raises_with_message_and_thread():
    @T.prim_func
    def main(X: T.Tensor((32,), "float32")):
        with T.Kernel(1, threads=32) as bx:
            tx = T.get_thread_binding()
            T.device_assert(X[tx] >= 0, "negative input")

    k = _compile(main)
    k(torch.ones(32))  # holds: no error
    x = torch.ones(32)
    x[5] = -1
    with pytest.raises(DeviceRuntimeError, match="negative input") as info:
        k(x)
    assert "thread 5" in str(info.value) and "T.device_assert" in str(info.value)


def test_print_scalar_and_buffer(capsys):
    @T.prim_func
    def main(X: T.Tensor((2, 3), "float32")):
        with T.Kernel(1, threads=2) as bx:
            tx = T.get_thread_binding()
            s = T.alloc_shared((2, 3), "float32")
            T.copy(X, s)
            T.print(s, msg="tile")
            T.print(tx * 10, msg="tid")

    _compile(main)(torch.arange(6, dtype=torch.float32).reshape(2, 3))
    out = capsys.readouterr().out
    assert "tile" in out and "5." in out
    assert "tid: 0" in out and "tid: 10" in out


def test_kernel_source_is_the_ir_and_cpu_tensors_are_written_in_place():
    @T.prim_func
    def main(X: T.Tensor((4,), "float32")):
        with T.Kernel(1, threads=4) as bx:
            tx = T.get_thread_binding()
            X[tx] = X[tx] * 2.0

    k = _compile(main)
    assert "T.Kernel(1, threads=4)" in k.get_kernel_source()
    x = torch.arange(4, dtype=torch.float32)
    base = x[::1]
    k(x)
    assert base.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_non_contiguous_tensor_arguments_are_read_and_written_through_their_strides():
    @T.prim_func
    def main(X: T.Tensor((4, 4), "float32"), Y: T.Tensor((4, 4), "float32")):
        with T.Kernel(1, threads=16) as bx:
            for i, j in T.Parallel(4, 4):
                Y[i, j] = X[i, j] + 1.0

    big = torch.randn(4, 8)
    x = big[:, ::2]
    y_big = torch.zeros(8, 4)
    y = y_big[::2]
    _compile(main)(x, y)
    assert torch.equal(y, x + 1) and torch.all(y_big[1::2] == 0)


def test_print_and_assert_inside_a_parallel_loop_name_the_iteration(capsys):
    @T.prim_func
    def main(X: T.Tensor((8,), "float32")):
        with T.Kernel(1, threads=4) as bx:
            for i in T.Parallel(8):
                T.print(X[i] * 2, msg="dbl")
                assert X[i] < 5.0, "too big"

    k = _compile(main)
    k(torch.zeros(8))
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("dbl")]
    assert len(lines) == 8 and "iteration (7,)" in lines[-1]
    with pytest.raises(DeviceRuntimeError, match=r"iteration \(5,\)\): too big"):
        k(torch.arange(8, dtype=torch.float32))
