"""Disk cache: keys, hits and misses, TILELANG_CACHE_DIR / TILELANG_DISABLE_CACHE, damaged entries."""
import pytest

from tilelang.backend.cuda.runtime import CudaArtifact, LaunchPlan, ParamSpec
from tilelang.backend.cuda import cache as kc

KEY_ARGS = dict(ir_hash="abc", target="sm_90a", options={"pass_configs": {}}, version="0.1.0",
                header_hash="h", compiler="nvrtc 13.5")


def key(**changes):
    kw = {**KEY_ARGS, **changes}
    return kc.cache_key(kw.pop("ir_hash"), kw.pop("target"), **kw)


def test_key_depends_on_every_input():
    base = key()
    assert base == key() and len(base) == 64
    changed = [key(ir_hash="abd"), key(target="sm_80"), key(options={"pass_configs": {"x": 1}}),
               key(version="0.2.0"), key(header_hash="g"), key(compiler="nvrtc 13.6")]
    assert len({base, *changed}) == 7


def test_default_key_includes_current_headers_and_compiler():
    assert kc.cache_key("abc", "sm_80", version="v") == kc.cache_key("abc", "sm_80", version="v")
    assert kc.cache_key("abc", "sm_80", version="v") != kc.cache_key("abc", "sm_80", version="v", header_hash="x")


def artifact():
    plan = LaunchPlan("k", [ParamSpec.tensor(0, "A", 16), ParamSpec.size("n")], grid=(4,), block=(128,))
    return CudaArtifact("extern \"C\" __global__ void k() {}", b"\x7fELF-cubin", "k", plan, "layouts")


def test_miss_then_hit_returns_the_stored_artifact(tmp_path):
    cache = kc.KernelCache(tmp_path)
    builds = []
    build = lambda: builds.append(1) or artifact()  # noqa: E731
    first = cache.get_or_build(key(), build)
    second = cache.get_or_build(key(), build)
    assert len(builds) == 1 and (cache.misses, cache.hits) == (1, 1)
    assert second is not first
    assert (second.source, second.cubin, second.kernel_name) == (first.source, first.cubin, "k")
    assert second.launch_plan == first.launch_plan and second.layout_report() == "layouts"
    assert list(tmp_path.glob("*/*.pkl")) == [tmp_path / key()[:2] / f"{key()}.pkl"]


def test_build_errors_propagate_and_are_not_cached(tmp_path):
    cache = kc.KernelCache(tmp_path)

    def failing():
        raise RuntimeError("nvrtc said no")

    with pytest.raises(RuntimeError, match="nvrtc said no"):
        cache.get_or_build(key(), failing)
    assert cache.get(key()) is None and not list(tmp_path.glob("*/*.pkl"))


def test_damaged_entry_is_a_miss_and_removed(tmp_path):
    cache = kc.KernelCache(tmp_path)
    cache.put(key(), artifact())
    path = cache.path(key())
    path.write_bytes(path.read_bytes()[:20])
    assert cache.get(key()) is None and not path.exists()


def test_env_moves_and_disables_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TILELANG_CACHE_DIR", str(tmp_path / "here"))
    monkeypatch.delenv("TILELANG_DISABLE_CACHE", raising=False)
    kc.get_or_build(key(), artifact)
    assert kc.default_cache().directory == tmp_path / "here"
    assert (tmp_path / "here" / key()[:2] / f"{key()}.pkl").exists()

    monkeypatch.setenv("TILELANG_DISABLE_CACHE", "1")
    builds = []
    kc.get_or_build(key(ir_hash="other"), lambda: builds.append(1) or artifact())
    kc.get_or_build(key(ir_hash="other"), lambda: builds.append(1) or artifact())
    assert len(builds) == 2 and not kc.default_cache().enabled
    assert not (tmp_path / "here" / key(ir_hash="other")[:2]).exists()


def test_default_directory_is_under_home(monkeypatch, tmp_path):
    monkeypatch.delenv("TILELANG_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert kc.default_cache().directory == tmp_path / ".cache" / "tilelang"


def test_keys_must_be_hex(tmp_path):
    with pytest.raises(ValueError, match="lowercase hex"):
        kc.KernelCache(tmp_path).get("../etc/passwd")
