"""The intrinsic registry: lookup by call or statement, effects, names, duplicate definitions."""
import pytest

from tilelang.ir import expr as E
from tilelang.ir import intrinsics as I
from tilelang.ir import stmt as S


def test_lookup_finds_the_intrinsic_of_a_call_or_an_evaluate():
    call = I.ASYNC_WAIT(1)
    assert call.name == "cp_async_wait" and isinstance(call.args[0], E.IntImm)
    assert I.lookup(call) is I.ASYNC_WAIT
    assert I.lookup(I.ASYNC_WAIT.stmt(1)) is I.ASYNC_WAIT
    assert I.ASYNC_WAIT.matches(I.ASYNC_WAIT.stmt(1)) and not I.ASYNC_COMMIT.matches(call)


def test_lookup_of_anything_else_is_none():
    assert I.lookup(E.const(1)) is None
    assert I.lookup(E.Call(E.const(0).dtype, "not_an_intrinsic", ())) is None
    assert I.lookup(E.cast(I.THREAD_INDEX[0](), "int64")) is None  # a Cast is not its operand
    assert I.lookup(S.Evaluate(E.const(0))) is None


def test_effects_say_what_passes_need():
    assert I.BLOCK_BARRIER.is_barrier and not I.NAMED_BARRIER.is_barrier
    assert I.ASYNC_COPY.is_async and I.TMA_LOAD.is_async and not I.ATOMICS["add"].is_async
    assert I.ATOMICS["add"].effects & I.Effect.WRITES_MEMORY
    assert I.SET_MAX_NREG_INC.template_args == 1 and I.ASYNC_COPY.template_args == 1
    assert I.is_math(E.call("exp", E.const(1.0))) and not I.is_math(I.SHFL_XOR(E.const(1.0), 1))


def test_names_are_neutral():
    for name in I.registered():
        assert not name.startswith(("tl::", "__")) and "<" not in name, name


def test_a_second_definition_under_a_name_is_rejected():
    with pytest.raises(ValueError, match="already defined"):
        I.register(I.Intrinsic("sync_threads", I.Effect.NONE))
    assert I.register(I.BLOCK_BARRIER) is I.BLOCK_BARRIER  # the same value again is fine
    new = I.register(I.Intrinsic("test_only_intrinsic", I.Effect.OUTPUT))
    assert I.lookup(new()) is new
