"""CUDA backend: `build(func, target, options) -> CudaArtifact`.

pipeline.py lowers the tile IR (its PASSES, in order), codegen.py prints CUDA C++,
toolchain.py compiles it with NVRTC, runtime.py launches it, cache.py keeps compiled kernels on
disk. Naming an architecture (target "cuda -arch=sm_80") needs no GPU; with none named the
local GPU's is used.
"""
from __future__ import annotations

import functools
import hashlib
import pathlib

from ...ir import stmt as S
from ...ir.visitor import collect
from .cache import cache_key, get_or_build
from .codegen import generate
from .pipeline import dump_requested, lower
from .runtime import CudaArtifact, LaunchPlan, ParamSpec
from .toolchain import build_cuda, detect_arch, ptxas_options


def resolve_arch(target) -> str:
    """The target's arch ("sm_80" may be given as is), or the local GPU's when it names none."""
    arch = target if isinstance(target, str) else getattr(target, "arch", None)
    return arch if arch else detect_arch()


def build(func, target, options: dict | None = None):
    options = dict(options or {})
    arch = resolve_arch(target)
    configs = options.get("pass_configs") or {}
    key_options = {"pass_configs": sorted((str(k), repr(v)) for k, v in configs.items()),
                   "compile_flags": repr(options.get("compile_flags")), "compiler": compiler_fingerprint()}
    key = cache_key(func.structural_hash(), arch, options=key_options)
    if dump_requested(options):  # the IR is written while lowering, so a cached kernel would skip it
        return _build(func, arch, options)
    return get_or_build(key, lambda: _build(func, arch, options))


@functools.lru_cache(maxsize=None)
def compiler_fingerprint() -> str:
    """Hash of every source file of the package: a cached kernel built by a different compiler
    (any module that can change generated code: ir, arith, layout, passes, codegen) is not
    reused even when the version string did not change."""
    root = pathlib.Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def lower_to_source(func, target, options: dict | None = None):
    """(CUDA source, codegen signature, lowered PrimFunc, lowering context)."""
    arch = resolve_arch(target)
    lowered, ctx = lower(func, arch, options or {})
    source, signature = generate(lowered)
    return source, signature, lowered, ctx


def _build(func, arch, options):
    source, signature, lowered, ctx = lower_to_source(func, arch, options)
    flags = options.get("compile_flags") or ()
    if isinstance(flags, str):
        flags = flags.split()
    configs = options.get("pass_configs") or {}
    result = build_cuda(source, arch, options=(*ptxas_options(configs), *flags), name=signature.name)
    if configs.get("tl.enable_ptxas_verbose_output"):
        print(result.log)
    index = {id(p): n for n, p in enumerate(func.params)}
    lowered_index = {id(p): n for n, p in enumerate(lowered.params)}
    params = []
    for name, kind, obj in signature.params:
        n = lowered_index.get(id(obj), index.get(id(obj)))
        if kind == "ptr":
            params.append(ParamSpec.tensor(n, name, align=signature.vector_bytes.get(name, 0)))
        elif kind == "tensormap":
            spec = obj
            params.append(ParamSpec.tma(lowered_index[id(spec.buffer)], name, spec.buffer.dtype.name, spec.box,
                                        swizzle=spec.swizzle))
        elif n is None:
            params.append(ParamSpec.size(name, obj.dtype.name))
        else:
            params.append(ParamSpec.scalar(n, name, obj.dtype))
    (launch,) = collect(lowered.body, lambda x: isinstance(x, S.KernelLaunch))
    plan = LaunchPlan(signature.name, params, tuple(launch.grid), tuple(int(t) for t in launch.threads),
                      smem_bytes=int(launch.annotations.get("smem_bytes", 0)))
    report = layout_report(func, ctx, launch)
    return CudaArtifact(source, result.cubin, signature.name, plan, report)


def layout_report(func, ctx, launch=None) -> str:
    """Every shared / fragment buffer with its layout and the op (and line) that decided it, and
    where the shared buffers sit in the dynamic arena."""
    lmap = ctx.layout_map
    buffers = getattr(lmap, "buffers", None) or {}
    decided = getattr(lmap, "decided_by", None) or {}
    lines = [f"kernel {func.name}: layouts"]
    for buf, layout in buffers.items():
        d = decided.get(buf)
        who = ""
        if d is not None:
            op = getattr(d, "op", d)
            span = getattr(d, "span", None)
            who = f"  <- {op}" + (f" at {span}" if span is not None else "")
        shape = tuple(int(s) for s in buf.shape)
        lines.append(f"  {buf.name} {shape} {buf.dtype} {buf.memory_scope}: {layout!r}{who}")
    if len(lines) == 1:
        lines.append("  (no shared or fragment buffers)")
    offsets = (launch.annotations.get("smem_offsets") or {}) if launch is not None else {}
    if offsets:
        places = ", ".join(f"{b.name} @ {off}" for b, off in sorted(offsets.items(), key=lambda x: x[1]))
        lines.append(f"shared memory: {launch.annotations.get('smem_bytes', 0)} bytes ({places})")
    return "\n".join(lines)
