"""The TileLang language: `import tilelang.language as T`.

Every name here builds IR while a kernel is traced; nothing runs on a device until the
kernel is compiled and called.
"""
from ..frontend.entry import prim_func, macro, Macro
from ..ir.dtypes import DType
from ..ir.expr import Var
from ..ir.function import PrimFunc
from .allocate import alloc_shared, alloc_local, alloc_fragment, alloc_var, alloc_barrier
from .builtin import *  # noqa: F401,F403
from .builtin import print  # noqa: F401  (shadows the builtin on purpose: T.print)
from .dtypes import (bool_ as bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64,  # noqa: A004
                     float16, bfloat16, float32, float64, float8_e4m3, float8_e5m2, handle)
from .kernel import (Kernel, get_thread_binding, get_thread_bindings, get_block_binding, get_block_bindings,
                     get_thread_extent, get_block_extent, ws, WarpSpecialize)
from .loops import Parallel, Pipelined, serial, unroll, vectorized, thread_binding, grid
from .math import *  # noqa: F401,F403
from .math import max, min, abs, round, pow  # noqa: F401  (T.max etc. on device values)
from .proxy import Tensor, Buffer, StridedTensor, dynamic, symbolic, const, empty
from .tile import (copy, fill, clear, gemm, GemmWarpPolicy, reduce, reduce_max, reduce_min, reduce_sum,
                   reduce_abssum, reduce_absmax, cumsum, atomic_add, atomic_max, atomic_min, tma_copy)

float8_e4m3fn = float8_e4m3
half = float16
float = float32  # noqa: A001
double = float64
int = int32  # noqa: A001
dtype = DType
