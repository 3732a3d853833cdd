"""On-disk cache of compiled kernels: with a warm cache, compiling a kernel is a file read.

An entry is one pickle file, `<dir>/<key[:2]>/<key>.pkl`, holding whatever the builder returned
(for CUDA: a CudaArtifact, i.e. source, cubin, kernel name, launch plan, layout report). It is
written to a temporary file and renamed, so readers never see half an entry; an entry that
fails to load is a miss and is removed. The key (`cache_key`) covers everything the compiled
kernel depends on, so entries are never invalidated, only superseded.

Environment variables, read at every `default_cache()` call:
  TILELANG_CACHE_DIR      cache directory (default ~/.cache/tilelang)
  TILELANG_DISABLE_CACHE  1 (or true/yes/on) disables the cache: every lookup misses, nothing is written
Entries are pickles: only point TILELANG_CACHE_DIR at a directory you trust.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable

from ...version import __version__
from . import toolchain

ENTRY_FORMAT = 2


def tilelang_version() -> str:
    return str(__version__)


def cache_key(ir_hash: str, target: str, *, options: Any = None, version: str | None = None,
              header_hash: str | None = None, compiler: str | None = None) -> str:
    """sha256 over the IR's structural hash, the target arch, compile options, tilelang version,
    the device headers' hash and the CUDA compiler (a new NVRTC may emit a different cubin)."""
    if version is None:
        version = tilelang_version()
    if header_hash is None or compiler is None:

        header_hash = toolchain.header_hash() if header_hash is None else header_hash
        compiler = toolchain.compiler_id() if compiler is None else compiler
    parts = {"format": ENTRY_FORMAT, "ir": ir_hash, "target": str(target), "options": options,
             "version": version, "header": header_hash, "compiler": compiler}
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


class KernelCache:
    """Compiled kernels under one directory; `hits` and `misses` count lookups."""

    def __init__(self, directory: str | os.PathLike, enabled: bool = True):
        self.directory = Path(directory).expanduser()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_env(cls) -> "KernelCache":
        directory, enabled = _env_settings()
        return cls(directory, enabled)

    def path(self, key: str) -> Path:
        if not key or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"cache keys are lowercase hex digests (cache_key()), got {key!r}")
        return self.directory / key[:2] / f"{key}.pkl"

    def get(self, key: str) -> Any | None:
        """The stored value, or None on a miss; a damaged entry is removed and counts as a miss."""
        if not self.enabled:
            return None
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            record = pickle.loads(data)
            if not (isinstance(record, dict) and record.get("format") == ENTRY_FORMAT and record.get("key") == key):
                raise ValueError("not an entry of this format")
        except Exception:  # truncated, from another version, or unpicklable after a code change
            path.unlink(missing_ok=True)
            self.misses += 1
            return None
        self.hits += 1
        return record["value"]

    def put(self, key: str, value: Any) -> None:
        """Store `value` (picklable). A read-only or full disk only loses the entry."""
        if not self.enabled:
            return
        path = self.path(key)
        data = pickle.dumps({"format": ENTRY_FORMAT, "key": key, "value": value}, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, data)
        except OSError:
            pass

    def get_or_build(self, key: str, build_fn: Callable[[], Any]) -> Any:
        """The cached value for `key`, or `build_fn()` stored under it. Build errors propagate, uncached."""
        value = self.get(key)
        if value is None:
            value = build_fn()
            self.put(key, value)
        return value

    def clear(self) -> None:
        """Remove every entry this cache wrote (`<2 hex>/<key>.pkl`)."""
        if not self.directory.is_dir():
            return
        for folder in self.directory.iterdir():
            if folder.is_dir() and len(folder.name) == 2:
                for path in folder.glob("*.pkl"):
                    path.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _env_settings() -> tuple[Path, bool]:
    directory = Path(os.environ.get("TILELANG_CACHE_DIR") or Path.home() / ".cache" / "tilelang").expanduser()
    disabled = os.environ.get("TILELANG_DISABLE_CACHE", "").strip().lower() in ("1", "true", "yes", "on")
    return directory, not disabled


_caches: dict[tuple[Path, bool], KernelCache] = {}


def default_cache() -> KernelCache:
    """The cache the environment names now (one object per setting, so hit counts persist)."""
    settings = _env_settings()
    cache = _caches.get(settings)
    if cache is None:
        cache = _caches[settings] = KernelCache(*settings)
    return cache


def get_or_build(key: str, build_fn: Callable[[], Any]) -> Any:
    """`default_cache().get_or_build(key, build_fn)`: what the compiler's build() calls."""
    return default_cache().get_or_build(key, build_fn)
