import pytest
import torch

import tilelang
import tilelang.language as T
from tilelang.profiler import Profiler, TensorSupplyType, do_bench

from profiler_fakes import FakeKernel, add_one_func, requires_cpu_backend


def two_inputs(M, dtype="float16"):
    @T.prim_func
    def k(A: T.Tensor((M, 8), dtype), B: T.Tensor((8,), "uint8"), C: T.Tensor((M, 8), "float32")):
        with T.Kernel(1, threads=32) as bx:
            for i, j in T.Parallel(M, 8):
                C[i, j] = A[i, j]

    return k


def test_supply_type_names_match_the_reference():
    assert [t.name for t in TensorSupplyType] == ["Integer", "Uniform", "Normal", "Randn", "Zero", "One", "Auto"]
    assert tilelang.TensorSupplyType is TensorSupplyType


@pytest.mark.parametrize("supply, check", [
    (TensorSupplyType.Integer, lambda a, b: set(a.unique().tolist()) <= {-2, -1, 0, 1, 2} and b.max() <= 2),
    (TensorSupplyType.Zero, lambda a, b: (a == 0).all() and (b == 0).all()),
    (TensorSupplyType.One, lambda a, b: (a == 1).all() and (b == 1).all()),
    (TensorSupplyType.Uniform, lambda a, b: a.abs().max() <= 1 and a.unique().numel() > 10),
    (TensorSupplyType.Auto, lambda a, b: a.abs().max() <= 1 and a.unique().numel() > 10 and b.max() <= 2),
    (TensorSupplyType.Randn, lambda a, b: a.float().std() > 0.5),
    (TensorSupplyType.Normal, lambda a, b: a.float().std() > 0.5),
])
def test_inputs_follow_parameter_shapes_dtypes_and_supply_type(supply, check):
    kernel = FakeKernel(two_inputs(64), lambda a, b: a.float(), [2])
    a, b = Profiler(kernel, supply)._get_inputs()
    assert a.shape == (64, 8) and a.dtype == torch.float16 and a.device.type == "cpu"
    assert b.shape == (8,) and b.dtype == torch.uint8
    assert check(a.float(), b.int())
    assert len(Profiler(kernel, supply)._get_inputs(with_output=True)) == 3


def test_symbolic_sizes_need_values_and_the_error_names_them():
    kernel = FakeKernel(two_inputs(T.dynamic("m")), lambda a, b: a.float(), [2])
    prof = Profiler(kernel)
    with pytest.raises(ValueError, match=r"parameter A has symbolic size\(s\) m.*dynamic_symbolic_constraints"):
        prof._get_inputs()
    a, _ = prof._get_inputs(dynamic_symbolic_constraints={"m": 5})
    assert a.shape == (5, 8)
    ms = prof.do_bench(n_warmup=1, n_repeat=2, dynamic_symbolic_constraints={"m": 3})
    assert ms >= 0


def test_assert_allclose_passes_on_matching_outputs(fake_add_one):
    prof = Profiler(fake_add_one, TensorSupplyType.Randn)
    prof.assert_allclose(lambda a: a + 1, rtol=0, atol=0)
    assert fake_add_one.calls == 1


def test_assert_allclose_reports_where_and_how_much():
    kernel = FakeKernel(add_one_func(16), lambda a: torch.where(torch.arange(16) == 11, a + 3.5, a + 1), [1])
    prof = Profiler(kernel, TensorSupplyType.Zero)
    with pytest.raises(AssertionError) as info:
        prof.assert_allclose(lambda a: a + 1, atol=1e-2, rtol=1e-2)
    msg = str(info.value)
    assert "output 0 (B)" in msg
    assert "1 of 16 elements" in msg
    assert "index (11,)" in msg and "got 3.5" in msg and "expected 1" in msg
    assert "max abs diff 2.5" in msg


def test_max_mismatched_ratio_allows_a_few_outliers():
    kernel = FakeKernel(add_one_func(16), lambda a: torch.where(torch.arange(16) == 0, a + 9, a + 1), [1])
    prof = Profiler(kernel)
    prof.assert_allclose(lambda a: a + 1, max_mismatched_ratio=0.1)
    with pytest.raises(AssertionError, match="1 of 16"):
        prof.assert_allclose(lambda a: a + 1, max_mismatched_ratio=0.01)


def test_nan_in_output_is_a_mismatch():
    kernel = FakeKernel(add_one_func(16), lambda a: torch.full_like(a, float("nan")), [1])
    with pytest.raises(AssertionError, match="16 of 16.*NaN"):
        Profiler(kernel).assert_allclose(lambda a: a + 1)


def test_output_count_and_shape_must_agree(fake_add_one):
    prof = Profiler(fake_add_one)
    with pytest.raises(AssertionError, match="1 output.*2"):
        prof.assert_allclose(lambda a: (a + 1, a))
    with pytest.raises(AssertionError, match="shape"):
        prof.assert_allclose(lambda a: torch.zeros(4))


def test_run_once_and_assert_consistent(fake_add_one):
    prof = Profiler(fake_add_one, TensorSupplyType.One)
    assert torch.equal(prof.run_once(), torch.full((16,), 2.0))
    prof.assert_consistent(repeat=3)
    calls = iter(range(100))
    flaky = FakeKernel(add_one_func(16), lambda a: a + next(calls), [1])
    with pytest.raises(AssertionError, match="differs from the first run"):
        Profiler(flaky).assert_consistent(repeat=2)


def test_scalar_parameters_cannot_be_invented():
    @T.prim_func
    def scaled(A: T.Tensor((8,), "float32"), s: T.float32, B: T.Tensor((8,), "float32")):
        with T.Kernel(1, threads=8) as bx:
            for i in T.Parallel(8):
                B[i] = A[i] * s

    prof = Profiler(FakeKernel(scaled, lambda a, s: a * s, [2]))
    with pytest.raises(ValueError, match="parameter s is a scalar"):
        prof._get_inputs()
    ms = prof.do_bench(input_tensors=[torch.ones(8), 2.0], n_repeat=2)
    assert ms >= 0


def test_do_bench_counts_and_return_modes(fake_add_one):
    prof = Profiler(fake_add_one)
    ms = prof.do_bench(n_warmup=2, n_repeat=5)
    assert isinstance(ms, float) and ms >= 0
    assert fake_add_one.calls == 2 + 2 + 5  # first call, estimate, warm-up, timed
    assert prof.do_bench(func=lambda a: a * 2, n_repeat=3, return_mode="max") >= 0
    with pytest.raises(ValueError, match="return_mode"):
        prof.do_bench(return_mode="p99")


def test_module_do_bench_measures_wall_time_on_cpu():
    import time

    ms = do_bench(lambda: time.sleep(0.002), warmup=0, rep=10, device="cpu")
    assert 1.5 < ms < 50
    lo, hi = do_bench(lambda: None, n_repeat=20, quantiles=[0.1, 0.9], device="cpu")
    assert lo <= hi


def test_time_budget_sets_the_number_of_calls():
    import time

    calls = []
    do_bench(lambda: (calls.append(1), time.sleep(0.001)), warmup=0, rep=5, device="cpu")
    assert 2 + 1 <= len(calls) <= 2 + 6


@requires_cpu_backend
def test_get_profiler_on_a_cpu_kernel():
    kernel = tilelang.compile(add_one_func(32), out_idx=[1], target="cpu")
    prof = kernel.get_profiler(tensor_supply_type=TensorSupplyType.Integer)
    assert isinstance(prof, Profiler)
    prof.assert_allclose(lambda a: a + 1, rtol=0, atol=0)
    assert prof.do_bench(warmup=1, rep=1) > 0


def test_get_tensor_supply_makes_tensors_from_parameters():
    from tilelang.utils.tensor import get_tensor_supply

    params = two_inputs(4).params
    a = get_tensor_supply(TensorSupplyType.One)(params[0])
    assert a.shape == (4, 8) and a.dtype == torch.float16 and bool((a == 1).all())
    with pytest.raises(ValueError, match="parameter A: dimension m is symbolic"):
        get_tensor_supply()(two_inputs(T.dynamic("m")).params[0])


def test_event_timing_path_flushes_before_every_timed_call(monkeypatch):
    """The CUDA-event path, run on the CPU with stand-ins for events and the flush buffer."""
    import contextlib
    import time

    from tilelang.profiler import bench

    class Event:
        def __init__(self, enable_timing=False):
            self.t = None

        def record(self):
            self.t = time.perf_counter()

        def synchronize(self):
            pass

        def elapsed_time(self, other):
            return (other.t - self.t) * 1e3

    log = []

    class Flush:
        def zero_(self):
            log.append("flush")

    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "device", lambda d: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(bench, "_flush_buffer", lambda dev, size: Flush())
    ms = bench.do_bench(lambda: (log.append("run"), time.sleep(0.001)), n_warmup=2, n_repeat=3, backend="event")
    assert 0.5 < ms < 50
    timed = log[1 + 10 + 2:]  # after the first call, 5 flushed estimate runs and 2 warm-ups
    assert log[:1] == ["run"] and log[1:11] == ["flush", "run"] * 5 and log[11:13] == ["run", "run"]
    assert timed == ["flush", "run"] * 3
