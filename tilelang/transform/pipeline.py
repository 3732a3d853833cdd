"""The CUDA compilation pipeline: the passes, in order. Read this file to follow the compiler.

    1. simplify             canonical index math
    2. software_pipeline    T.Pipelined -> multi-versioned shared buffers, async copies
    3. layout_inference     -> LayoutMap (kept in the context, not in the IR)
    4. lower_tile_ops       tile ops, T.Parallel, T.ws -> thread-level IR
    5. plan_shared_memory   one dynamic arena, offsets, reuse of dead buffers
    6. insert_syncs         __syncthreads for shared-memory hazards
    7. lower_barriers       mbarrier init by one thread + fence + barrier
    8. simplify

With options["verbose"], TILELANG_DUMP_IR=<folder> or pass config tl.enable_dump_ir /
tl.dump_ir_dir, the IR after each pass is written to <folder>/NN_<pass>.txt.
"""
from __future__ import annotations

import os
import tempfile

from ..ir import expr as E
from ..ir.buffer import Buffer
from ..ir.function import PrimFunc
from ..ir.visitor import collect
from .lower_context import LowerContext
from .simplify import simplify


def _software_pipeline(func, ctx):
    try:
        from .software_pipeline import software_pipeline
    except ImportError:
        return func
    return software_pipeline(func, ctx.target) if _takes_target(software_pipeline) else software_pipeline(func)


def _takes_target(fn) -> bool:
    import inspect

    try:
        return len(inspect.signature(fn).parameters) >= 2
    except (TypeError, ValueError):
        return False


def _layout_inference(func, ctx):
    from .layout_inference import infer_layouts

    ctx.layout_map = infer_layouts(func, ctx.target)
    return func


def _lower_tile_ops(func, ctx):
    from .lower_tile_ops import lower_tile_ops

    out = lower_tile_ops(func, ctx)
    attrs = {}
    if ctx.tma_descriptors:
        attrs["tma_descriptors"] = tuple(ctx.tma_descriptors)
    return out.with_body(out.body, **attrs) if attrs else out


def _plan_shared_memory(func, ctx):
    from .plan_shared_memory import plan_shared_memory

    return plan_shared_memory(func, ctx)


def _insert_syncs(func, ctx):
    from .insert_syncs import insert_syncs

    return insert_syncs(func, ctx)


def _lower_barriers(func, ctx):
    from .lower_barriers import lower_barriers

    return lower_barriers(func, ctx)


PASSES = (
    ("simplify", simplify),
    ("software_pipeline", _software_pipeline),
    ("layout_inference", _layout_inference),
    ("lower_tile_ops", _lower_tile_ops),
    ("plan_shared_memory", _plan_shared_memory),
    ("insert_syncs", _insert_syncs),
    ("lower_barriers", _lower_barriers),
    ("simplify", simplify),
)


def size_vars(func: PrimFunc) -> tuple:
    """Symbolic sizes (T.dynamic) in the global buffers' shapes that are not parameters themselves."""
    out = []
    for p in func.params:
        if isinstance(p, Buffer):
            for s in p.shape:
                for v in collect(s, lambda n: isinstance(n, E.Var)):
                    if not any(v is x for x in out) and not any(v is x for x in func.params):
                        out.append(v)
    return tuple(out)


def dump_folder(options: dict) -> str | None:
    configs = options.get("pass_configs") or {}
    folder = os.environ.get("TILELANG_DUMP_IR") or configs.get("tl.dump_ir_dir")
    if folder is None and (options.get("verbose") or configs.get("tl.enable_dump_ir")):
        folder = tempfile.mkdtemp(prefix="tilelang-ir-")
    return folder


def lower(func: PrimFunc, target, options: dict | None = None) -> tuple[PrimFunc, LowerContext]:
    """Run every pass; returns the lowered PrimFunc and the context (layouts, TMA descriptors)."""
    options = options or {}
    ctx = LowerContext(arch=target.arch, layout_map=None, thread=E.const(0), num_threads=1,
                       pass_configs=dict(options.get("pass_configs") or {}), target=target)
    configs = options.get("pass_configs") or {}
    fast = bool(configs.get("tl.enable_fast_math")) and not configs.get("tl.disable_fast_math")
    func = func.with_body(func.body, size_vars=size_vars(func), fast_math=fast)
    folder = dump_folder(options)
    if folder is not None:
        os.makedirs(folder, exist_ok=True)
        if options.get("verbose"):
            print(f"tilelang: IR after each pass in {folder}")
        _dump(folder, 0, "input", func)
    for n, (name, run) in enumerate(PASSES, start=1):
        func = run(func, ctx)
        if folder is not None:
            _dump(folder, n, name, func)
    return func, ctx


def _dump(folder: str, n: int, name: str, func: PrimFunc) -> None:
    with open(os.path.join(folder, f"{n:02d}_{name}.txt"), "w") as f:
        f.write(func.script() + "\n")
