"""On-disk cache of compiled kernels: a warm cache makes compiling a kernel a file read.

An entry is two files named by its key: `<key>.cubin` and `<key>.json` (the caller's metadata
plus the cubin's sha256 and size). Both are written to a temporary file and renamed, the json
last, so readers never see a half-written entry; an entry that fails its checks is a miss
and is removed.

Environment variables (read when a cache is made from the environment, `KernelCache.from_env`):
  TILELANG_CACHE_DIR      cache directory (default ~/.cache/tilelang)
  TILELANG_DISABLE_CACHE  set to 1 to disable the cache: every lookup misses, nothing is written
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

ENTRY_FORMAT = 1


def tilelang_version() -> str:
    try:
        from tilelang import __version__

        return str(__version__)
    except ImportError:
        from importlib import metadata

        try:
            return metadata.version("tilelang")
        except metadata.PackageNotFoundError:
            return "unknown"


def cache_key(ir_hash: str, target: str, *, options=(), version: str | None = None,
              header_hash: str | None = None) -> str:
    """sha256 over the lowered IR's hash, the target, compile options, tilelang version and device header."""
    if version is None:
        version = tilelang_version()
    if header_hash is None:
        from tilelang.backend.cuda.build import header_hash as current_header_hash

        header_hash = current_header_hash()
    parts = [f"format={ENTRY_FORMAT}", f"ir={ir_hash}", f"target={target}", f"options={list(options)}",
             f"version={version}", f"header={header_hash}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class KernelCache:
    """Compiled kernels (cubin + json metadata) under one directory."""

    def __init__(self, directory: str | os.PathLike, enabled: bool = True):
        self.directory = Path(directory).expanduser()
        self.enabled = enabled

    @classmethod
    def from_env(cls) -> "KernelCache":
        directory = os.environ.get("TILELANG_CACHE_DIR") or Path.home() / ".cache" / "tilelang"
        disabled = os.environ.get("TILELANG_DISABLE_CACHE", "").strip().lower() in ("1", "true", "yes", "on")
        return cls(directory, enabled=not disabled)

    def _paths(self, key: str) -> tuple[Path, Path]:
        if not key or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"cache keys are lowercase hex digests, got {key!r}")
        folder = self.directory / key[:2]
        return folder / f"{key}.cubin", folder / f"{key}.json"

    def get(self, key: str) -> tuple[bytes, dict] | None:
        """(cubin, metadata) or None on a miss; a damaged entry is removed and counts as a miss."""
        if not self.enabled:
            return None
        cubin_path, meta_path = self._paths(key)
        try:
            record = json.loads(meta_path.read_text())
            cubin = cubin_path.read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self.remove(key)
            return None
        if (not isinstance(record, dict) or record.get("format") != ENTRY_FORMAT
                or record.get("cubin_size") != len(cubin)
                or record.get("cubin_sha256") != hashlib.sha256(cubin).hexdigest()
                or not isinstance(record.get("metadata"), dict)):
            self.remove(key)
            return None
        return cubin, record["metadata"]

    def put(self, key: str, cubin: bytes, metadata: dict) -> None:
        """Store an entry (metadata must be JSON-serialisable). Failing to write only loses the entry."""
        if not self.enabled:
            return
        cubin_path, meta_path = self._paths(key)
        record = {"format": ENTRY_FORMAT, "cubin_sha256": hashlib.sha256(cubin).hexdigest(),
                  "cubin_size": len(cubin), "metadata": metadata}
        text = json.dumps(record, indent=1, sort_keys=True)
        try:
            cubin_path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(cubin_path, cubin)
            _write_atomic(meta_path, text.encode())
        except OSError:
            pass  # a read-only or full disk makes the cache a no-op, not an error

    def remove(self, key: str) -> None:
        for path in self._paths(key):
            try:
                path.unlink()
            except OSError:
                pass

    def clear(self) -> None:
        """Remove every entry (files this cache wrote: <2 hex>/<key>.cubin|json)."""
        if not self.directory.is_dir():
            return
        for folder in self.directory.iterdir():
            if folder.is_dir() and len(folder.name) == 2:
                for path in folder.glob("*.cubin"):
                    path.unlink(missing_ok=True)
                for path in folder.glob("*.json"):
                    path.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_default: KernelCache | None = None


def default_cache() -> KernelCache:
    """The process's cache, made from the environment on first use."""
    global _default
    if _default is None:
        _default = KernelCache.from_env()
    return _default
