import importlib.util
from pathlib import Path

import tilelang.language as T

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "scripts" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_is_up_to_date():
    gen = load_generator()
    current = (ROOT / "docs" / "reference.md").read_text()
    assert current == gen.render(), "docs/reference.md is out of date: run python scripts/gen_reference.py"


def test_every_public_name_is_documented():
    gen = load_generator()
    text = (ROOT / "docs" / "reference.md").read_text()
    missing = [n for n in gen.public_names(T) if f"`T.{n}" not in text]
    assert not missing, missing
    assert "### `T.alloc_shared(" in text and "`T.float16`" in text
