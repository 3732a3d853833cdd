"""pass_configs: the keys TileLang users pass to compile(); unknown keys warn, never fail."""
from __future__ import annotations

import enum
import warnings


class PassConfigKey(str, enum.Enum):
    TL_DISABLE_TMA_LOWER = "tl.disable_tma_lower"
    TL_DISABLE_WARP_SPECIALIZED = "tl.disable_warp_specialized"
    TL_DISABLE_WGMMA = "tl.disable_wgmma"
    TL_ENABLE_FAST_MATH = "tl.enable_fast_math"
    TL_DISABLE_FAST_MATH = "tl.disable_fast_math"
    TL_DISABLE_SAFE_MEMORY_ACCESS = "tl.disable_safe_memory_legalize"
    TL_DISABLE_VECTORIZE_256 = "tl.disable_vectorize_256"
    TL_DISABLE_DYNAMIC_TAIL_SPLIT = "tl.disable_dynamic_tail_split"
    TL_DYNAMIC_ALIGNMENT = "tl.dynamic_alignment"
    TL_CONFIG_INDEX_BITWIDTH = "tl.config_index_bitwidth"
    TL_ENABLE_AGGRESSIVE_SHARED_MEMORY_MERGE = "tl.enable_aggressive_shared_memory_merge"
    TL_DEBUG_MERGE_SHARED_MEMORY_ALLOCATIONS = "tl.debug_merge_shared_memory_allocations"
    TL_ENABLE_PTXAS_VERBOSE_OUTPUT = "tl.enable_ptxas_verbose_output"
    TL_PTXAS_REGISTER_USAGE_LEVEL = "tl.ptxas_register_usage_level"
    TL_DISABLE_SHUFFLE_ELECT = "tl.disable_shuffle_elect"
    TL_DISABLE_THREAD_STORAGE_SYNC = "tl.disable_thread_storage_sync"
    TL_ENABLE_DUMP_IR = "tl.enable_dump_ir"
    TL_DUMP_IR_DIR = "tl.dump_ir_dir"
    TIR_DISABLE_VECTORIZE = "tir.disable_vectorize"
    TIR_ENABLE_DEBUG = "tir.enable_debug"
    TIR_MERGE_STATIC_SMEM = "tir.merge_static_smem"
    TIR_DISABLE_STORAGE_REWRITE = "tir.disable_storage_rewrite"


# Keys this compiler acts on, and where.
HONOURED = {
    "tl.disable_tma_lower": "backend/cuda/pipeline.py: the target has no bulk (TMA) copies",
    "tl.disable_wgmma": "backend/cuda/pipeline.py: the target has no warpgroup MMA",
    "tl.enable_fast_math": "codegen: approximate math functions (fast exp, log, tanh, ...)",
    "tl.disable_fast_math": "overrides tl.enable_fast_math",
    "tl.enable_ptxas_verbose_output": "toolchain: ptxas -v, its report printed after the build",
    "tl.ptxas_register_usage_level": "toolchain: ptxas --register-usage-level",
    "tl.disable_thread_storage_sync": "insert_syncs: no barriers inserted",
    "tl.enable_dump_ir": "pipeline: the IR after each pass, in a temporary folder",
    "tl.dump_ir_dir": "pipeline: the IR after each pass, in this folder",
    "tir.disable_vectorize": "copy / T.Parallel lowering: scalar accesses only",
    "tir.disable_storage_rewrite": "plan_shared_memory: no reuse of dead buffers' space",
}

# Keys accepted for compatibility with TileLang programs, and why they change nothing here.
NO_EFFECT = {
    "tl.disable_warp_specialized": "warp specialization happens only where the program writes T.ws",
    "tl.disable_safe_memory_legalize": "the copy lowering guards every access its ranges do not prove in bounds",
    "tl.disable_vectorize_256": "vector accesses are at most 128 bits wide",
    "tl.disable_dynamic_tail_split": "there is no tail-splitting pass",
    "tl.dynamic_alignment": "there is no tail-splitting pass",
    "tl.config_index_bitwidth": "index expressions keep the dtypes the program gives them",
    "tl.enable_aggressive_shared_memory_merge": "plan_shared_memory always reuses dead buffers' space",
    "tl.debug_merge_shared_memory_allocations": "the arena layout is in kernel.show_layouts()",
    "tl.disable_shuffle_elect": "a single issuing thread is picked by its index, never by a shuffle election",
    "tir.enable_debug": "there is no debug build of kernels",
    "tir.merge_static_smem": "all shared buffers already live in one dynamic arena",
}

KNOWN_KEYS = frozenset(k.value for k in PassConfigKey)

_warned: set = set()  # keys already warned about in this process (each warning is given once)


def normalize_pass_configs(pass_configs) -> dict:
    """Plain-string keys; a warning (once per key) for each key that is unknown or has no effect here."""
    out = {}
    for key, value in (pass_configs or {}).items():
        name = key.value if isinstance(key, PassConfigKey) else str(key)
        if name not in KNOWN_KEYS:
            warnings.warn(f"unknown pass config {name!r} is ignored", stacklevel=3)
        elif name in NO_EFFECT and value not in (None, False) and name not in _warned:
            _warned.add(name)
            warnings.warn(f"pass config {name!r} has no effect in this compiler: {NO_EFFECT[name]}", stacklevel=3)
        out[name] = value
    return out
