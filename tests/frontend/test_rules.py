"""Each frontend rule of DESIGN.md, checked on the IR it produces."""
import pytest

import tilelang
import tilelang.language as T
from tilelang.errors import TileLangError
from tilelang.ir import expr as E
from tilelang.ir import stmt as S
from tilelang.ir import tileop as O
from tilelang.ir.visitor import collect


def nodes(func, cls):
    return collect(func.body, lambda n: isinstance(n, cls))


def test_python_if_is_decided_while_tracing():
    def make(flag):
        @T.prim_func
        def main(A: T.Tensor((128,), "float32")):
            with T.Kernel(1, threads=128) as bx:
                if flag:
                    T.fill(A, 1.0)
                else:
                    T.fill(A, 2.0)

        return main

    for flag, value in ((True, 1.0), (False, 2.0)):
        f = make(flag)
        assert not nodes(f, S.IfThenElse)
        (fill,) = nodes(f, O.Fill)
        assert fill.value.value == value


def test_device_if_is_a_runtime_branch():
    @T.prim_func
    def main(A: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            tx = T.get_thread_binding(0)
            if tx < 64:
                A[tx] = 1.0
            else:
                A[tx] = 2.0

    (branch,) = nodes(main, S.IfThenElse)
    assert isinstance(branch.condition, E.Binary) and branch.condition.op == "<"
    assert branch.else_body is not None


def test_range_in_a_kernel_is_serial_with_start_stop_step():
    @T.prim_func
    def main(A: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=1):
            for i in range(2, 10, 3):
                A[i] = 1.0
            for j in T.serial(4):
                A[j] = 2.0

    loops = nodes(main, S.For)
    assert [l.kind for l in loops] == ["serial", "serial"]
    first = loops[0]
    assert (int(first.min), int(first.step)) == (2, 3) and int(first.extent) == 3


def test_alloc_var_names_store_on_assign_and_load_on_read():
    @T.prim_func
    def main(A: T.Tensor((4,), "int32")):
        with T.Kernel(1, threads=1):
            x = T.alloc_var("int32")
            x = 3
            x = x + 1
            y = T.alloc_var("int32")
            y[0] = x * 2
            A[0] = y

    stores = [s for s in nodes(main, S.BufferStore)]
    x_stores = [s for s in stores if s.buffer.name == "x"]
    assert len(x_stores) == 2
    assert isinstance(x_stores[1].value, E.Binary) and isinstance(x_stores[1].value.a, E.BufferLoad)
    assert any(s.buffer.name == "y" for s in stores)
    final = [s for s in stores if s.buffer.name == "A"][0]
    assert isinstance(final.value, E.BufferLoad) and final.value.buffer.name == "y"


def test_plain_names_are_immutable_bindings():
    @T.prim_func
    def main(A: T.Tensor((4,), "int32")):
        with T.Kernel(1, threads=1):
            tx = T.get_thread_binding(0)
            i = tx + 1
            i = i * 2
            A[i] = 0

    (store,) = [s for s in nodes(main, S.BufferStore)]
    assert "tx + 1) * 2" in repr(store.indices[0])


def test_and_or_ternary_and_chained_comparisons_on_device_values():
    @T.prim_func
    def main(A: T.Tensor((128,), "float32")):
        with T.Kernel(1, threads=128):
            tx = T.get_thread_binding(0)
            if 4 <= tx < 100 and (tx % 2 == 0 or tx == 7):
                A[tx] = 1.0 if tx > 50 else 2.0

    (branch,) = nodes(main, S.IfThenElse)
    ops = {n.op for n in collect(branch.condition, lambda n: isinstance(n, E.Binary))}
    assert {"and", "or", "<", "==", "%"} <= ops and ops & {"<=", ">="}
    (store,) = nodes(main, S.BufferStore)
    assert isinstance(store.value, E.Select)


def test_tuple_targets_and_kernel_bindings():
    @T.prim_func
    def main(A: T.Tensor((64, 64), "float32")):
        with T.Kernel(2, 4, threads=(32, 4)) as (bx, by):
            F = T.alloc_fragment((32, 16), "float32")
            for i, j in T.Parallel(32, 16):
                F[i, j] = i * 1.0 + j
            T.copy(F, A[bx * 32, by * 16])

    (launch,) = nodes(main, S.KernelLaunch)
    assert [int(g) for g in launch.grid] == [2, 4] and launch.threads == (32, 4)
    par = [l for l in nodes(main, S.For) if l.kind == "parallel"]
    assert [int(l.extent) for l in par] == [32, 16]


def test_macro_inlines_with_arguments():
    @T.macro
    def scale(buf, factor):
        for i in T.Parallel(64):
            buf[i] = buf[i] * factor

    @T.prim_func
    def main(A: T.Tensor((64,), "float32")):
        with T.Kernel(1, threads=64):
            F = T.alloc_fragment((64,), "float32")
            T.copy(A, F)
            scale(F, 2.0)
            scale(F, 3.0)
            T.copy(F, A)

    assert len([l for l in nodes(main, S.For) if l.kind == "parallel"]) == 2


def test_closures_over_python_values():
    def make(block):
        @T.prim_func
        def main(A: T.Tensor((256,), "float32")):
            with T.Kernel(T.ceildiv(256, block), threads=block) as bx:
                tx = T.get_thread_binding(0)
                A[bx * block + tx] = 0.0

        return main

    (launch,) = nodes(make(64), S.KernelLaunch)
    assert int(launch.grid[0]) == 4 and launch.threads == (64,)


def test_tracing_errors_point_at_the_users_line():
    with pytest.raises(TileLangError) as info:
        @T.prim_func
        def main(A: T.Tensor((64,), "float32")):
            with T.Kernel(1, threads=64):
                T.copy(A, undefined_name)  # noqa: F821

    text = str(info.value)
    assert "test_rules.py:" in text
    assert "T.copy(A, undefined_name)" in text
    assert "^" in text and "undefined_name" in text


def test_three_entry_styles_trace():
    @T.prim_func
    def bare(A: T.Tensor((8,), "float32")):
        with T.Kernel(1, threads=8):
            tx = T.get_thread_binding(0)
            A[tx] = 1.0

    from tilelang.ir.function import PrimFunc

    assert isinstance(bare, PrimFunc)

    @tilelang.jit(out_idx=[1])
    def factory(n):
        @T.prim_func
        def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
            with T.Kernel(1, threads=n):
                tx = T.get_thread_binding(0)
                B[tx] = A[tx]

        return main

    assert callable(factory)
