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


def test_the_guide_names_only_existing_language_functions():
    import re

    names = set()
    for path in (ROOT / "docs" / "guide").glob("*.md"):
        names |= set(re.findall(r"\bT\.([A-Za-z_]\w*)(?![\w*])", path.read_text()))
    missing = sorted(n for n in names if not hasattr(T, n))
    assert not missing, f"docs/guide mentions T.{missing}"


def test_the_guide_links_resolve():
    import re

    for path in (ROOT / "docs" / "guide").glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", path.read_text()):
            if "://" not in target:
                assert (path.parent / target).exists(), f"{path.name}: broken link {target}"
