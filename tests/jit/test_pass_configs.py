"""pass_configs: every PassConfigKey is honoured (each checked below) or warns that it has no effect."""
import warnings

import pytest

import tilelang.language as T
from tilelang.backend import cuda
from tilelang.backend.cuda import lower_to_source, pipeline, toolchain
from tilelang.jit import pass_config
from tilelang.jit.pass_config import HONOURED, KNOWN_KEYS, NO_EFFECT, PassConfigKey, normalize_pass_configs
from tilelang.target import Target


def cuda_source(func, arch="sm_80", **configs):
    return lower_to_source(func, Target("cuda", arch), {"pass_configs": configs})[0]


def test_every_key_is_honoured_or_declared_without_effect():
    assert HONOURED.keys() | NO_EFFECT.keys() == KNOWN_KEYS
    assert not HONOURED.keys() & NO_EFFECT.keys()


def test_keys_without_effect_warn_once_and_honoured_keys_do_not(monkeypatch):
    monkeypatch.setattr(pass_config, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = normalize_pass_configs({PassConfigKey.TL_DISABLE_WARP_SPECIALIZED: True, "tl.disable_wgmma": True})
        normalize_pass_configs({"tl.disable_warp_specialized": True})
        normalize_pass_configs({"tl.disable_shuffle_elect": False})  # left at its default: nothing to say
    assert out == {"tl.disable_warp_specialized": True, "tl.disable_wgmma": True}
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "'tl.disable_warp_specialized' has no effect in this compiler" in messages[0]


def test_unknown_keys_warn():
    with pytest.warns(UserWarning, match="unknown pass config 'tl.no_such_key'"):
        normalize_pass_configs({"tl.no_such_key": 1})


# ---------------------------------------------------------------- capabilities switched off
def test_capability_switches_turn_off_the_target_features():
    assert pipeline.target_for("sm_90a", {}).warpgroup_mma and pipeline.target_for("sm_90a", {}).bulk_copy
    off = pipeline.target_for("sm_90a", {"tl.disable_wgmma": True, "tl.disable_tma_lower": True})
    assert not off.warpgroup_mma and not off.bulk_copy and off.mma and off.async_copy


@T.prim_func
def gemm_64x64(A: T.Tensor((64, 64), "float16"), B: T.Tensor((64, 64), "float16"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, threads=128) as bx:
        A_s = T.alloc_shared((64, 64), "float16")
        B_s = T.alloc_shared((64, 64), "float16")
        C_f = T.alloc_fragment((64, 64), "float32")
        T.copy(A, A_s)
        T.copy(B, B_s)
        T.gemm(A_s, B_s, C_f, clear_accum=True)
        T.copy(C_f, C)


def test_disable_wgmma_gives_mma_sync_on_sm_90a():
    assert "wgmma" in cuda_source(gemm_64x64, "sm_90a")
    src = cuda_source(gemm_64x64, "sm_90a", **{"tl.disable_wgmma": True})
    assert "wgmma" not in src and "tl::gemm_ss_steps<" in src


# tl.disable_tma_lower: tests/backend_cuda/test_lower_tile_ops.py::test_tma_copy_elsewhere_is_a_thread_copy
# tir.disable_vectorize: tests/backend_cuda/test_lower_tile_ops.py::test_disable_vectorize
# tir.disable_storage_rewrite: tests/backend_cuda/test_pipeline_passes.py::test_plan_shared_memory_without_reuse


# ---------------------------------------------------------------- code generation
@T.prim_func
def exp_rows(A: T.Tensor((128,), "float32"), B: T.Tensor((128,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        for i in T.Parallel(128):
            B[i] = T.exp(A[i])


def test_fast_math_uses_the_approximate_functions():
    assert "tl::fast_exp" not in cuda_source(exp_rows)
    assert "tl::fast_exp" in cuda_source(exp_rows, **{"tl.enable_fast_math": True})
    assert "tl::fast_exp" not in cuda_source(exp_rows, **{"tl.enable_fast_math": True, "tl.disable_fast_math": True})


@T.prim_func
def reverse_through_shared(A: T.Tensor((128,), "float32"), B: T.Tensor((128,), "float32")):
    with T.Kernel(1, threads=128) as bx:
        tx = T.get_thread_binding()
        S_ = T.alloc_shared((128,), "float32")
        S_[tx] = A[tx]
        B[tx] = S_[127 - tx]


def test_disable_thread_storage_sync_inserts_no_barrier():
    assert "__syncthreads()" in cuda_source(reverse_through_shared)
    assert "__syncthreads()" not in cuda_source(reverse_through_shared, **{"tl.disable_thread_storage_sync": True})


# ---------------------------------------------------------------- toolchain
def test_ptxas_configs_become_compiler_options():
    assert toolchain.ptxas_options({}) == ()
    assert toolchain.ptxas_options({"tl.enable_ptxas_verbose_output": True, "tl.ptxas_register_usage_level": 5}) == (
        "--ptxas-options=-v", "--ptxas-options=--register-usage-level=5")
    with pytest.raises(ValueError, match="0..10"):
        toolchain.ptxas_options({"tl.ptxas_register_usage_level": 11})


def test_the_build_passes_the_ptxas_options(monkeypatch):
    seen = {}

    class Stop(Exception):
        pass

    def fake_build(source, arch, *, options=(), name="kernel"):
        seen["options"] = options
        raise Stop

    monkeypatch.setattr(cuda, "build_cuda", fake_build)
    with pytest.raises(Stop):
        cuda._build(exp_rows, "sm_80", {"pass_configs": {"tl.ptxas_register_usage_level": 3},
                                        "compile_flags": "-lineinfo"})
    assert seen["options"] == ("--ptxas-options=--register-usage-level=3", "-lineinfo")


# ---------------------------------------------------------------- IR dumps
def test_dump_ir_dir_and_enable_dump_ir(tmp_path, monkeypatch):
    monkeypatch.delenv("TILELANG_DUMP_IR", raising=False)
    pipeline.lower(exp_rows, "sm_80", {"pass_configs": {"tl.dump_ir_dir": str(tmp_path)}})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "00_input.txt" and len(names) == len(pipeline.PASSES) + 1
    assert pipeline.dump_folder({}) is None
    assert pipeline.dump_requested({"pass_configs": {"tl.enable_dump_ir": True}})
    folder = pipeline.dump_folder({"pass_configs": {"tl.enable_dump_ir": True}})
    assert folder is not None and "tilelang-ir-" in folder
