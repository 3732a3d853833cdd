"""Every example runs at its small size (on the CPU interpreter in CI) and checks itself against torch."""
import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ["gemm", "gemm_epilogue", "softmax", "rmsnorm", "flash_attention", "dequant_gemm_int4", "autotune_gemm"]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tilelang.backend.cpu") is None, reason="no CPU backend")


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("TILELANG_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_small(name, capsys):
    stats = load(name).main(size="small")
    assert stats["ms"] > 0
    out = capsys.readouterr().out
    assert " ms" in out


def test_causal_flash_attention():
    assert load("flash_attention").main(size="small", causal=True)["ms"] > 0


def test_every_example_has_a_small_size_and_a_main():
    for path in EXAMPLES.glob("*.py"):
        if path.name == "quickstart.py":
            continue
        text = path.read_text()
        assert "def main(" in text and '"small"' in text and "--size" in text, path.name
