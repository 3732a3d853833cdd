"""The CUDA compilation pipeline: every pass, in order. Read this file to follow the compiler.

Each pass is `fn(func, ctx) -> func` (ctx: a LowerContext, which is a transform.PassContext).
Target-neutral passes come from tilelang/transform, the rest from this backend.

Pass configs that switch a capability off (tl.disable_wgmma, tl.disable_tma_lower) do it in
the TargetDescription the passes get, so no lowering reads those flags.

With options["verbose"], TILELANG_DUMP_IR=<folder> or pass config tl.enable_dump_ir /
tl.dump_ir_dir, the IR after each pass is written to <folder>/NN_<pass>.txt (the only place
IR is dumped).
"""
from __future__ import annotations

import dataclasses
import os
import tempfile

from ...ir import expr as E
from ...ir.buffer import Buffer
from ...ir.function import PrimFunc
from ...ir.visitor import collect
from ...target import TargetDescription
from ...transform.layout_inference import layout_inference
from ...transform.plan_shared_memory import plan_shared_memory
from ...transform.rotate_pipeline import rotate_pipeline
from ...transform.simplify import simplify
from ...transform.software_pipeline import software_pipeline
from .init_barriers import init_barriers
from .insert_syncs import insert_syncs
from .lower.context import LowerContext
from .lower.tile_ops import lower_tile_ops
from .target import describe

PASSES = (
    simplify,            # canonical index math                                    (neutral)
    software_pipeline,   # T.Pipelined -> multi-versioned shared buffers, async copies (neutral)
    layout_inference,    # -> ctx.layout_map (buffers, loops, who decided)          (neutral)
    lower_tile_ops,      # tile ops, T.Parallel, T.ws -> thread-level IR
    rotate_pipeline,     # a pipelined loop's barrier and next-stage loads overlap its last statements (neutral)
    plan_shared_memory,  # one dynamic arena, offsets, reuse of dead buffers        (neutral)
    insert_syncs,        # block barriers for shared-memory hazards
    init_barriers,       # mbarrier init by one thread + fence + barrier
    simplify,
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


# pass config -> the TargetDescription capability it turns off
CAPABILITY_SWITCHES = {"tl.disable_wgmma": "warpgroup_mma", "tl.disable_tma_lower": "bulk_copy"}


def target_for(arch: str, configs: dict) -> TargetDescription:
    """`describe(arch)` less the capabilities the pass configs switch off."""
    off = {field: False for key, field in CAPABILITY_SWITCHES.items() if configs.get(key)}
    return dataclasses.replace(describe(arch), **off)


def dump_requested(options: dict) -> bool:
    configs = options.get("pass_configs") or {}
    return bool(os.environ.get("TILELANG_DUMP_IR") or configs.get("tl.dump_ir_dir") or options.get("verbose")
                or configs.get("tl.enable_dump_ir"))


def dump_folder(options: dict) -> str | None:
    """Where the IR after each pass goes, or None (no dump asked for)."""
    if not dump_requested(options):
        return None
    configs = options.get("pass_configs") or {}
    return os.environ.get("TILELANG_DUMP_IR") or configs.get("tl.dump_ir_dir") or tempfile.mkdtemp(prefix="tilelang-ir-")


def lower(func: PrimFunc, arch: str, options: dict | None = None) -> tuple[PrimFunc, LowerContext]:
    """Run every pass for `arch`; returns the lowered PrimFunc and the context (layouts, TMA descriptors)."""
    options = options or {}
    configs = dict(options.get("pass_configs") or {})
    ctx = LowerContext(target=target_for(arch, configs), pass_configs=configs)
    fast = bool(configs.get("tl.enable_fast_math")) and not configs.get("tl.disable_fast_math")
    func = func.with_body(func.body, size_vars=size_vars(func), fast_math=fast)
    folder = dump_folder(options)
    if folder is not None:
        os.makedirs(folder, exist_ok=True)
        if options.get("verbose"):
            print(f"tilelang: IR after each pass in {folder}")
        _dump(folder, 0, "input", func)
    for n, run in enumerate(PASSES, start=1):
        func = run(func, ctx)
        if folder is not None:
            _dump(folder, n, run.__name__, func)
    return func, ctx


def _dump(folder: str, n: int, name: str, func: PrimFunc) -> None:
    with open(os.path.join(folder, f"{n:02d}_{name}.txt"), "w") as f:
        f.write(func.script() + "\n")
