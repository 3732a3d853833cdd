import pytest
import torch

import tilelang
import tilelang.language as T
from tilelang.autotuner import AutoTuner, AutotuneResult, autotune_cache_dir, expand_configs


def scale(n, delay=1, wrong=False, broken=False, hang=0):
    """A module-level factory (so worker processes can import it)."""
    if hang:
        import time

        time.sleep(hang)
    if broken:
        raise ValueError("this tile size does not divide the problem")

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=32) as bx:
            for i in T.Parallel(n):
                B[i] = A[i] * 2

    return main.with_body(main.body, tune_delay_ms=delay, tune_wrong=wrong)


CONFIGS = [{"delay": 30}, {"delay": 1}, {"delay": 15}, {"delay": 2, "wrong": True}, {"delay": 0, "broken": True}]


def ref(a):
    return a * 2


def tuner(factory=scale, configs=CONFIGS, **profile):
    t = AutoTuner.from_kernel(kernel=factory, configs=configs).set_compile_args(out_idx=[1], target="cpu")
    t.set_profile_args(ref_prog=ref, **{"warmup": 0, "rep": 1, **profile})
    return t.set_kernel_parameters((64,), {})


def test_explicit_form_picks_the_fastest_correct_candidate(fake_backend, capsys):
    t = tuner()
    result = t.run()
    assert isinstance(result, AutotuneResult)
    assert result.config == {"delay": 1}
    assert 0.5 < result.latency < 15
    assert result.ref_latency is not None and result.ref_latency >= 0
    assert not result.from_cache
    assert torch.equal(result.kernel(torch.ones(64)), torch.full((64,), 2.0))
    assert "fake artifact" in result.libcode
    reasons = dict((tuple(sorted(c.items())), r) for c, r in result.skipped)
    assert reasons[(("broken", True), ("delay", 0))].startswith("compile failed: ValueError: this tile size")
    assert reasons[(("delay", 2), ("wrong", True))].startswith("wrong result:")
    assert len(result.latencies) == 3
    err = capsys.readouterr().err
    assert "best:" in err and err.count("autotune: skipped") == 2


def test_module_level_factories_compile_in_processes_closures_in_threads(fake_backend):
    t = tuner(configs=[{"delay": 1}, {"delay": 2}])
    assert t._start_compiles(expand_configs(t.configs), 2)[2] == "processes"

    def local_factory(n, delay=1):
        return scale(n, delay)

    t = tuner(local_factory, configs=[{"delay": 3}, {"delay": 1}])
    pool, _, mode = t._start_compiles(expand_configs(t.configs), 2)
    pool.shutdown()
    assert mode == "threads"
    assert t.run().config == {"delay": 1}


def test_second_run_with_the_same_key_is_a_cache_read(fake_backend):
    first = tuner().run()
    files = list(autotune_cache_dir().glob("*.json"))
    assert len(files) == 1
    fake_backend.clear()
    second = tuner().run()
    assert second.from_cache
    assert second.config == first.config and second.latency == first.latency
    assert fake_backend == []  # nothing was benchmarked or checked
    assert torch.equal(second.kernel(torch.ones(64)), torch.full((64,), 2.0))
    # a different problem size is a different key
    other = tuner().set_kernel_parameters((128,), {}).run()
    assert not other.from_cache
    assert len(list(autotune_cache_dir().glob("*.json"))) == 2


def test_disabling_the_cache(fake_backend, monkeypatch):
    monkeypatch.setenv("TILELANG_DISABLE_CACHE", "1")
    tuner(configs=[{"delay": 1}]).run()
    assert not tuner(configs=[{"delay": 1}]).run().from_cache
    assert not autotune_cache_dir().exists()


def test_every_candidate_failing_is_an_error_listing_reasons(fake_backend):
    with pytest.raises(RuntimeError, match="every configuration failed.*this tile size"):
        tuner(configs=[{"broken": True}, {"wrong": True}]).run()


def test_config_forms_and_unknown_keys(fake_backend):
    assert expand_configs({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
    assert expand_configs(lambda n: [{"a": n}], (5,)) == [{"a": 5}]
    with pytest.raises(ValueError, match="block_K"):
        tuner(configs=[{"block_K": 3}]).run()


@tilelang.autotune(configs=[{"delay": 20}, {"delay": 1}, {"delay": 10}], warmup=0, rep=1, ref_prog=ref)
@tilelang.jit(out_idx=[1], target="cpu")
def tuned_scale(n, delay=5):
    return scale(n, delay)


def test_decorator_returns_the_best_kernel_and_honours_explicit_tunables(fake_backend):
    tuned_scale.results.clear()
    kernel = tuned_scale(64)
    assert kernel.prim_func.attrs["tune_delay_ms"] == 1
    assert tuned_scale.best(64).config == {"delay": 1}
    assert tuned_scale(64) is kernel  # tuned once per distinct arguments
    direct = tuned_scale(64, delay=10)
    assert direct.prim_func.attrs["tune_delay_ms"] == 10
    assert len(tuned_scale.results) == 1


def test_decorator_order_is_checked():
    with pytest.raises(TypeError, match="above @tilelang.jit"):
        tilelang.autotune(configs=[{}])(scale)


def test_progress_line_without_tqdm(fake_backend, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `from tqdm import tqdm` fail
    tuner(configs=[{"delay": 1}, {"delay": 0, "broken": True}]).run()
    err = capsys.readouterr().err
    assert "autotune scale: 2/2 best:" in err
    assert "autotune: skipped {'delay': 0, 'broken': True}: compile failed" in err


def test_a_hanging_compile_is_given_up_after_the_timeout(fake_backend):
    import time

    start = time.perf_counter()
    result = tuner(configs=[{"delay": 1}, {"delay": 0, "hang": 30}], timeout=1).run(num_workers=2)
    assert time.perf_counter() - start < 10
    assert result.config == {"delay": 1}
    assert result.skipped == [({"delay": 0, "hang": 30}, "compile timed out (nothing finished in 1 s)")]


def test_tuned_kernels_carry_their_config_and_latency(fake_backend):
    result = tuner(configs=[{"delay": 1}]).run()
    assert result.kernel.config == {"delay": 1} and result.kernel.latency == result.latency


def test_set_autotune_inputs_supplies_the_tensors(fake_backend):
    from tilelang.autotuner import get_autotune_inputs, set_autotune_inputs

    seen = []

    def recording_ref(a):
        seen.append(a.clone())
        return a * 2

    x = torch.full((64,), 3.0)
    assert get_autotune_inputs() is None
    with set_autotune_inputs(x):
        assert get_autotune_inputs() == [x]
        t = tuner(configs=[{"delay": 1}, {"delay": 2}])
        t.set_profile_args(ref_prog=recording_ref, warmup=0, rep=1)
    assert get_autotune_inputs() is None
    t.run()
    assert seen and all(torch.equal(s, x) for s in seen)


def test_configs_may_be_a_generator(fake_backend):
    t = tuner(configs=({"delay": d} for d in (3, 1)))
    assert t.run().config == {"delay": 1}
    with pytest.raises(TypeError, match="dicts"):
        expand_configs([("delay", 1)])


def test_skip_reasons_are_one_line_and_name_the_user_line():
    from tilelang.autotuner.tuner import _reason
    from tilelang.errors import Span, TileLangValueError

    err = TileLangValueError("tile (64, 48) does not split\nover 4 warps", Span(__file__, 3))
    assert _reason(err) == f"TileLangValueError: tile (64, 48) does not split over 4 warps ({__file__}:3)"
    assert _reason(ValueError("first\nlast")) == "ValueError: last"
