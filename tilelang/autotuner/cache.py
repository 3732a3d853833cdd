"""The autotuner's on-disk results: `$TILELANG_CACHE_DIR/autotune/<key>.json`, one per tuning.

The key covers everything that decides the winner: the factory's source and closure values,
its fixed arguments, the search space, the compile arguments, the device and the version.
Set TILELANG_DISABLE_CACHE=1 (every cache) or TILELANG_AUTOTUNE_DISABLE_CACHE=1 to turn it off.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path

from ..utils.tensor import TensorSupplyType
from ..version import __version__

FORMAT = 1
_OFF = ("1", "true", "yes", "on")


def enabled() -> bool:
    return (os.environ.get("TILELANG_DISABLE_CACHE", "").strip().lower() not in _OFF
            and os.environ.get("TILELANG_AUTOTUNE_DISABLE_CACHE", "").strip().lower() not in _OFF)


def autotune_cache_dir() -> Path:
    root = os.environ.get("TILELANG_CACHE_DIR") or Path.home() / ".cache" / "tilelang"
    return Path(root).expanduser() / "autotune"


def stable(value):
    """A JSON-able, address-free description of a value for cache keys."""
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [type(value).__name__] + [stable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): stable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, TensorSupplyType):
        return value.name
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return f"{type(value).__name__}:{name}"
    return f"{type(value).__name__}:{value!s}"


def function_identity(raw) -> dict:
    """Source text, qualified name and closure values of a plain function."""
    code = getattr(raw, "__code__", None)
    try:
        source = inspect.getsource(raw)
    except (OSError, TypeError):
        source = hashlib.sha256(code.co_code).hexdigest() if code is not None else repr(raw)
    closure = {}
    for name, cell in zip(getattr(code, "co_freevars", ()), getattr(raw, "__closure__", None) or ()):
        try:
            closure[name] = stable(cell.cell_contents)
        except ValueError:  # an empty cell
            closure[name] = None
    return {"qualname": getattr(raw, "__qualname__", repr(raw)), "source": source, "closure": closure}


def device_name(target_kind: str) -> str:
    if target_kind == "cuda":
        try:
            import torch

            return "cuda:" + torch.cuda.get_device_name()
        except Exception:  # noqa: BLE001 - no GPU visible: still a usable key
            return "cuda:unknown"
    import platform

    return f"cpu:{platform.machine()}"


def make_key(parts: dict) -> str:

    parts = {**parts, "format": FORMAT, "version": __version__}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _path(key: str) -> Path:
    return autotune_cache_dir() / f"{key}.json"


def load(key: str) -> dict | None:
    """The stored record, or None (missing, unreadable, another format, cache off)."""
    if not enabled():
        return None
    try:
        record = json.loads(_path(key).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == FORMAT else None


def store(key: str, record: dict) -> bool:
    """Write atomically; False when the cache is off, the config is not JSON, or the disk refuses."""
    if not enabled() or not _json_roundtrips(record.get("config")):
        return False
    path = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**record, "format": FORMAT}, indent=1, sort_keys=True))
        os.replace(tmp, path)
        return True
    except OSError:
        return False  # an unwritable cache only costs a re-tune


def _json_roundtrips(config) -> bool:
    try:
        return json.loads(json.dumps(config, sort_keys=True)) == config
    except (TypeError, ValueError):
        return False
