"""The seed module tilelang.language.allocate: signatures, scopes, alloc_var forms, errors."""
import inspect

import pytest

import tilelang.language as T
from tilelang.errors import TileLangError
from tilelang.language import allocate


def _kernel_buffers(body):
    """Trace a kernel whose body is `body(T)`; returns the buffers it allocated, by name."""
    out = {}

    @T.prim_func
    def main(A: T.Tensor((4,), "float32")):
        with T.Kernel(1, threads=32):
            out.update(body())

    return out, main


def test_signatures_match_the_seed_document():
    sig = lambda f: str(inspect.signature(f))
    assert sig(allocate.alloc_shared) == "(shape, dtype, scope='shared.dyn') -> 'Buffer'"
    assert sig(allocate.alloc_local) == "(shape, dtype, scope='local') -> 'Buffer'"
    assert sig(allocate.alloc_fragment) == "(shape, dtype, scope='local.fragment') -> 'Buffer'"
    assert list(inspect.signature(allocate.alloc_var).parameters)[:1] == ["dtype"]
    assert list(inspect.signature(allocate.alloc_barrier).parameters) == ["arrive_count"]
    for f in (allocate.alloc_shared, allocate.alloc_local, allocate.alloc_fragment, allocate.alloc_var,
              allocate.alloc_barrier):
        assert f.__doc__ and len(f.__doc__) > 20
        assert getattr(T, f.__name__) is f


def test_scopes_shapes_dtypes():
    def body():
        return dict(s=T.alloc_shared((16, 8), "float16"), s2=T.alloc_shared((4,), T.float32, scope="shared"),
                    l=T.alloc_local((4,), "int32"), f=T.alloc_fragment((32, 32), "float32"),
                    v=T.alloc_var("int32"), b=T.alloc_barrier([1, 2, 3]), flag=T.alloc_shared((8,), "bool"))

    bufs, _ = _kernel_buffers(body)
    assert bufs["s"].scope() == "shared.dyn" and tuple(int(x) for x in bufs["s"].shape) == (16, 8)
    assert bufs["s"].dtype == "float16"
    assert bufs["s2"].scope() == "shared"
    assert bufs["l"].scope() == "local" and bufs["l"].dtype == "int32"
    assert bufs["f"].scope() == "local.fragment"
    assert bufs["v"].scope() == "local.var"
    assert bufs["b"].scope() == "shared.barrier" and int(bufs["b"].shape[0]) == 3
    assert bufs["b"].arrive_counts == (1, 2, 3)
    assert bufs["flag"].scope() == "shared"  # bool tiles fall back to static shared memory


def test_buffers_are_named_after_their_variables():
    @T.prim_func
    def main(A: T.Tensor((4,), "float32")):
        with T.Kernel(1, threads=32):
            A_shared = T.alloc_shared((4,), "float32")
            T.copy(A, A_shared)

    assert "A_shared = T.alloc_shared((4,), 'float32')" in str(main)


@pytest.mark.parametrize("form", ["positional", "keyword"])
def test_alloc_var_initial_value_is_stored(form):
    @T.prim_func
    def main(A: T.Tensor((4,), "int32")):
        with T.Kernel(1, threads=32):
            x = T.alloc_var("int32", 7) if form == "positional" else T.alloc_var("int32", init=7)
            A[0] = x

    text = str(main)
    assert "x = T.alloc_var('int32')" in text or "x = T.alloc_var(" in text
    assert "x = 7" in text or "x[0] = 7" in text


@pytest.mark.parametrize("call, message", [
    (lambda: T.alloc_shared((-1, 4), "float16"), "positive"),
    (lambda: T.alloc_shared((0,), "float16"), "positive"),
    (lambda: T.alloc_shared((2.5, 4), "float16"), "integers"),
    (lambda: T.alloc_fragment((4,), "floaty"), "floaty"),
    (lambda: T.alloc_barrier(0), "positive"),
    (lambda: T.alloc_barrier([1, 0]), "positive"),
    (lambda: T.alloc_local((4,), "int32", scope="global"), "scope"),
])
def test_bad_arguments_name_the_user_line(call, message):
    with pytest.raises(TileLangError) as info:
        @T.prim_func
        def main(A: T.Tensor((4,), "float32")):
            with T.Kernel(1, threads=32):
                call()

    text = str(info.value)
    assert message in text
    assert "test_allocate.py" in text and "call()" in text


def test_allocation_outside_a_kernel_is_an_error():
    with pytest.raises(TileLangError, match="inside"):
        T.alloc_shared((4,), "float16")
    with pytest.raises(TileLangError) as info:
        @T.prim_func
        def main(A: T.Tensor((4,), "float32")):
            S = T.alloc_shared((4,), "float32")

    assert "T.Kernel" in str(info.value)


def test_buffer_indexing_and_slicing():
    seen = {}

    @T.prim_func
    def main(A: T.Tensor((64, 64), "float16")):
        with T.Kernel(1, threads=32):
            S = T.alloc_shared((16, 16), "float16")
            seen["load"] = S[1, 2]
            seen["region"] = S[0:8, 4:12]
            T.copy(A[0:16, 0:16], S)

    from tilelang.ir.buffer import BufferRegion
    from tilelang.ir.expr import BufferLoad

    assert isinstance(seen["load"], BufferLoad) and seen["load"].dtype == "float16"
    assert isinstance(seen["region"], BufferRegion)
    assert [int(e) for e in seen["region"].extents] == [8, 8]
