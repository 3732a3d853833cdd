"""CUDA C++ source -> cubin, in-process with NVRTC (cuda-bindings), or with `nvcc -cubin`.

Neither needs a GPU. A failed build raises `CudaBuildError` naming the compiler's error, the
generated lines around it and the user's source line, found from the nearest
`// tilelang: <file>:<line>: <source text>` marker the codegen put above the failing line.

(Named `toolchain`, not `build`: a `build` submodule would replace the package's `build()`
function as an attribute of `tilelang.backend.cuda` the moment it is imported.)
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tilelang.errors import CompileError

INCLUDE_DIR = Path(__file__).resolve().parent / "include"
HEADER = INCLUDE_DIR / "tl.cuh"

# -ftz / approximate division and square root, but precise expf/logf/sinf: kernels that want
# the fast forms call tl::fast_exp2 and friends explicitly.
DEFAULT_OPTIONS = ("-std=c++17", "--ftz=true", "--prec-div=false", "--prec-sqrt=false", "--fmad=true")

_MARKER = re.compile(r"^\s*// tilelang: (?P<loc>.+?:\d+): (?P<text>.*)$")
_DIAG = re.compile(r"^(?P<file>.*?)\((?P<line>\d+)\): (?P<kind>error|warning|catastrophic error)\b")
_INSTANTIATED = re.compile(r"at line (?P<line>\d+) of (?P<file>\S+)")


class CudaBuildError(CompileError):
    """The generated CUDA C++ did not compile."""

    def __init__(self, message: str, log: str = "", line: int | None = None, user_location: str | None = None):
        super().__init__(message)
        self.log = log
        self.line = line
        self.user_location = user_location


@dataclasses.dataclass(frozen=True)
class BuildResult:
    cubin: bytes
    arch: str
    compiler: str  # "nvrtc X.Y" or "nvcc"
    seconds: float
    log: str  # warnings, empty when clean


# ---------------------------------------------------------------------------------------------
# Architectures

def parse_target(target: str) -> str:
    """'cuda -arch=sm_80' -> 'sm_80'; 'sm_90a' -> 'sm_90a'; 'cuda' or 'auto' -> detect_arch()."""
    text = target.strip()
    found = re.search(r"(?:-arch=|--gpu-architecture=|\b)(sm_\d+[a-z]?)\b", text)
    if found:
        return found.group(1)
    if text in ("cuda", "auto", "") or text.startswith("cuda "):
        return detect_arch()
    raise ValueError(f"unrecognised CUDA target {target!r}: expected e.g. 'cuda', 'cuda -arch=sm_80' or 'sm_90a'")


def detect_arch(device: int | None = None) -> str:
    """The current GPU's architecture via torch: 8.0 -> 'sm_80', 9.0 -> 'sm_90a' (9.0+ use the 'a' features)."""
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("no CUDA GPU visible: name an architecture, e.g. target='cuda -arch=sm_80'")
    major, minor = torch.cuda.get_device_capability(device)
    return f"sm_{major}{minor}" + ("a" if major >= 9 else "")


def compute_capability(arch: str) -> int:
    """'sm_90a' -> 90, 'sm_80' -> 80."""
    found = re.fullmatch(r"sm_(\d+)[a-z]?", arch)
    if not found:
        raise ValueError(f"not a CUDA architecture: {arch!r} (expected e.g. 'sm_80', 'sm_90a')")
    return int(found.group(1))


def header_hash() -> str:
    """sha256 over every device header (tl.cuh, tl_gemm.cuh, ...), part of every cache key."""
    digest = hashlib.sha256()
    for path in sorted(INCLUDE_DIR.glob("*.cuh")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Compilers

@functools.lru_cache(maxsize=None)
def nvrtc_version() -> tuple[int, int] | None:
    """NVRTC's (major, minor), or None when cuda-bindings or libnvrtc cannot be loaded."""
    try:
        from cuda.bindings import nvrtc

        err, major, minor = nvrtc.nvrtcVersion()
    except Exception:
        return None
    return (major, minor) if int(err) == 0 else None


def compiler_id() -> str:
    """The compiler build_cuda would use by default: 'nvrtc 13.5', 'nvcc' or 'none'."""
    if nvrtc_version() is not None:
        return "nvrtc %d.%d" % nvrtc_version()
    return "nvcc" if nvcc_path() else "none"


@functools.lru_cache(maxsize=None)
def nvcc_path() -> str | None:
    """nvcc on PATH, under $CUDA_HOME or /usr/local/cuda; None when absent."""
    found = shutil.which("nvcc")
    if found:
        return found
    for root in (os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if root and os.path.exists(os.path.join(root, "bin", "nvcc")):
            return os.path.join(root, "bin", "nvcc")
    return None


def ptxas_options(pass_configs: dict) -> tuple:
    """Compiler options for the pass configs that reach ptxas (NVRTC and nvcc spell them alike)."""
    opts = []
    if pass_configs.get("tl.enable_ptxas_verbose_output"):
        opts.append("--ptxas-options=-v")
    level = pass_configs.get("tl.ptxas_register_usage_level")
    if level is not None:
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 10:
            raise ValueError(f"pass config tl.ptxas_register_usage_level must be an int in 0..10, got {level!r}")
        opts.append(f"--ptxas-options=--register-usage-level={level}")
    return tuple(opts)


def build_cuda(source: str, arch: str, *, options=(), name: str = "kernel", compiler: str | None = None) -> BuildResult:
    """Compile `source` for `arch` to a cubin. compiler: 'nvrtc', 'nvcc' or None (NVRTC when it loads)."""
    compute_capability(arch)
    if compiler is None:
        compiler = "nvrtc" if nvrtc_version() is not None else ("nvcc" if nvcc_path() else None)
    if compiler is None:
        raise CudaBuildError(
            "no CUDA compiler found: install NVRTC (pip install cuda-bindings nvidia-cuda-nvrtc) or put nvcc on PATH"
        )
    opts = [*DEFAULT_OPTIONS, f"-I{INCLUDE_DIR}", *options]
    start = time.perf_counter()
    if compiler == "nvrtc":
        ok, cubin, log = _compile_nvrtc(source, arch, opts, name)
        label = "nvrtc %d.%d" % nvrtc_version()
    elif compiler == "nvcc":
        ok, cubin, log = _compile_nvcc(source, arch, opts, name)
        label = "nvcc"
    else:
        raise ValueError(f"unknown CUDA compiler {compiler!r}: expected 'nvrtc' or 'nvcc'")
    seconds = time.perf_counter() - start
    if not ok:
        raise _build_error(source, arch, label, log, name)
    return BuildResult(cubin=cubin, arch=arch, compiler=label, seconds=seconds, log=log.strip())


def _compile_nvrtc(source: str, arch: str, opts: list[str], name: str) -> tuple[bool, bytes, str]:
    from cuda.bindings import nvrtc

    def check(result):
        err = result[0] if isinstance(result, tuple) else result
        if int(err) != 0:
            raise CudaBuildError(f"NVRTC call failed: {nvrtc.nvrtcGetErrorString(err)[1].decode()}")
        return result[1:] if isinstance(result, tuple) and len(result) > 1 else None

    (prog,) = check(nvrtc.nvrtcCreateProgram(source.encode(), f"{name}.cu".encode(), 0, [], []))
    try:
        args = [f"-arch={arch}".encode(), b"-default-device", *(o.encode() for o in opts)]
        (err,) = nvrtc.nvrtcCompileProgram(prog, len(args), args)
        (size,) = check(nvrtc.nvrtcGetProgramLogSize(prog))
        # A fresh buffer: NVRTC writes into it, and `b" " * 1` would be CPython's shared b" ".
        log = bytes(size + 1)
        check(nvrtc.nvrtcGetProgramLog(prog, log))
        log_text = log.rstrip(b"\0 ").decode(errors="replace")
        if int(err) != 0:
            return False, b"", log_text
        (size,) = check(nvrtc.nvrtcGetCUBINSize(prog))
        cubin = bytes(size + 1)
        check(nvrtc.nvrtcGetCUBIN(prog, cubin))
        cubin = cubin[:size]
        return True, cubin, log_text
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def _compile_nvcc(source: str, arch: str, opts: list[str], name: str) -> tuple[bool, bytes, str]:
    # nvcc spells the NVRTC options differently; -gencode keeps sm_90a from also running a plain sm_90 pass.
    translate = {"--ftz=true": "-ftz=true", "--prec-div=false": "-prec-div=false",
                 "--prec-sqrt=false": "-prec-sqrt=false", "--fmad=true": "-fmad=true"}
    virtual = arch.replace("sm_", "compute_")
    with tempfile.TemporaryDirectory(prefix="tilelang-nvcc-") as tmp:
        src = Path(tmp) / f"{name}.cu"
        out = Path(tmp) / f"{name}.cubin"
        src.write_text(source)
        cmd = [nvcc_path(), "-cubin", f"-gencode=arch={virtual},code={arch}", "-o", str(out), str(src),
               *(translate.get(o, o) for o in opts)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        log = (proc.stdout + proc.stderr).replace(str(src), src.name)
        if proc.returncode != 0:
            return False, b"", log
        return True, out.read_bytes(), log


# ---------------------------------------------------------------------------------------------
# Error messages

def _build_error(source: str, arch: str, compiler: str, log: str, name: str) -> CudaBuildError:
    lines = source.splitlines()
    failing = _failing_line(log, f"{name}.cu")
    parts = [f"CUDA build failed ({compiler}, {arch}):", _first_errors(log)]
    user = None
    if failing is not None and 1 <= failing <= len(lines):
        parts.append(f"generated code, {name}.cu:{failing}:")
        lo, hi = max(1, failing - 3), min(len(lines), failing + 2)
        for n in range(lo, hi + 1):
            parts.append(f"{'>' if n == failing else ' '} {n:5d} | {lines[n - 1]}")
        for n in range(failing, 0, -1):
            marker = _MARKER.match(lines[n - 1])
            if marker:
                user = marker.group("loc")
                parts.append(f"user source: {user}: {marker.group('text').strip()}")
                break
    return CudaBuildError("\n".join(parts), log=log, line=failing, user_location=user)


def _failing_line(log: str, filename: str) -> int | None:
    """Line in the generated file of the first error: its own, or where a header template was instantiated."""
    first_error = None
    for line in log.splitlines():
        diag = _DIAG.match(line)
        if diag and "error" in diag.group("kind"):
            if Path(diag.group("file")).name == filename:
                return int(diag.group("line"))
            first_error = first_error or line
        if first_error is not None:
            inst = _INSTANTIATED.search(line)
            if inst and Path(inst.group("file").strip('"')).name == filename:
                return int(inst.group("line"))
    return None


def _first_errors(log: str, limit: int = 20) -> str:
    kept = [ln for ln in log.strip().splitlines() if ln.strip()]
    more = f"\n  ... ({len(kept) - limit} more log lines)" if len(kept) > limit else ""
    return "\n".join("  " + ln for ln in kept[:limit]) + more
