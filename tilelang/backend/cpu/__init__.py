"""The CPU backend: a numpy interpreter of the tile IR, the semantic reference.

`build(func, options)` returns a CpuArtifact whose `launch(args, sizes)` runs the kernel on
torch CPU tensors in place: blocks in sequence, threads as vector lanes (see executor.py).
"""
from __future__ import annotations

import numpy as np

from ...errors import DeviceRuntimeError
from ...ir import stmt as S
from ...ir.buffer import Buffer
from . import values
from .evaluator import Evaluator
from .grid import run_launch


class CpuArtifact:
    """What the JIT runs: `source` is the IR text (there is no generated code to show)."""

    device_kind = "cpu"

    def __init__(self, func):
        self.func = func
        self.source = str(func)

    def launch(self, args, sizes) -> None:
        env, storage = {}, {}
        for p, a in zip(self.func.params, args):
            if isinstance(p, Buffer):
                if getattr(a, "device", None) is not None and a.device.type != "cpu":
                    raise DeviceRuntimeError(f"parameter {p.name}: the CPU backend needs CPU tensors, got {a.device}")
                storage[p] = values.tensor_view(a, p.dtype)
            else:
                env[p] = values.scalar(a, p.dtype)
        for var, v in (sizes or {}).items():
            env[var] = values.scalar(v, var.dtype)
        with np.errstate(all="ignore"):
            _run(self.func.body, env, storage)


def _run(stmt, env, storage) -> None:
    """Host-level statements around the kernel launch(es)."""
    if isinstance(stmt, S.SeqStmt):
        for s in stmt.stmts:
            _run(s, env, storage)
    elif isinstance(stmt, S.KernelLaunch):
        run_launch(stmt, env, storage)
    elif isinstance(stmt, S.LetStmt):
        env[stmt.var] = Evaluator(env, storage, np.zeros(1, np.int32)).ev(stmt.value)
        _run(stmt.body, env, storage)
    else:
        raise DeviceRuntimeError(f"the CPU backend expects the kernel body to be a T.Kernel launch, "
                                 f"found a {type(stmt).__name__} outside it", stmt.span)


def build(func, options=None) -> CpuArtifact:
    return CpuArtifact(func)
