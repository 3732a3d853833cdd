"""A stand-in backend so the tuner can be tested before (and apart from) the real CPU backend.

The fake artifact computes B = A * 2, sleeping `tune_delay_ms` (an attribute the factory sets
on its prim_func) per launch; `tune_wrong` makes it compute the wrong thing.
"""
import time

import pytest

LAUNCHES = []


class FakeArtifact:
    device_kind = "cpu"

    def __init__(self, func):
        self.func = func
        self.source = f"// fake artifact for {func.name} {dict(func.attrs)}"

    def launch(self, args, sizes):
        LAUNCHES.append(self.func.attrs.get("tune_delay_ms"))
        time.sleep(self.func.attrs.get("tune_delay_ms", 0) / 1e3)
        a, b = args[0], args[1]
        b.copy_(a * (3 if self.func.attrs.get("tune_wrong") else 2))


def fake_build(func, target, options):
    return FakeArtifact(func)


@pytest.fixture
def fake_backend(monkeypatch, tmp_path):
    import tilelang.backend

    monkeypatch.setattr(tilelang.backend, "build", fake_build)
    monkeypatch.setenv("TILELANG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TILELANG_DISABLE_CACHE", raising=False)
    LAUNCHES.clear()
    return LAUNCHES
