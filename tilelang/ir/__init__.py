"""The IR: typed expressions, statements, buffers, tile ops and PrimFunc."""
from . import dtypes
from .dtypes import DType, as_dtype
from .expr import (Expr, IntImm, FloatImm, StringImm, Var, BufferLoad, Binary, Unary, Select, Cast, Call,
                   const, convert, cast, select, call, binary, unary)
from .buffer import Buffer, BufferRegion, Range
from .stmt import (Stmt, SeqStmt, Evaluate, BufferStore, IfThenElse, LetStmt, For, While, KernelLaunch,
                   WarpSpecialize, seq)
from .tileop import (TileOp, Copy, Fill, Gemm, Reduce, CumSum, AtomicRegion, Atomic, TmaCopy, Print,
                     DeviceAssert)
from .function import PrimFunc
from .visitor import Visitor, Mutator, substitute, collect
from .structural import structural_equal, structural_hash, structural_key
