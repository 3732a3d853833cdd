"""Compile the CUDA our compiler generates as host C++ (host_shim.h stands in for tl.cuh) and run
it with one std::thread per CUDA thread: numeric checks of the lowering without a GPU."""
from __future__ import annotations

import ctypes
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

from tilelang.arith import simplify
from tilelang.backend.cuda import lower_to_source
from tilelang.backend.cuda.codegen import ctype
from tilelang.ir import expr as E
from tilelang.ir import stmt as S
from tilelang.ir.buffer import Buffer
from tilelang.ir.visitor import collect, substitute
from tilelang.jit.target import Target

SHIM = pathlib.Path(__file__).resolve().parent / "host_shim.h"
CXX = shutil.which("g++") or shutil.which("clang++")
_BUILD_DIR = pathlib.Path(tempfile.gettempdir()) / "tilelang-host-cuda"


class HostKernel:
    """`kernel(*tensors)`: every PrimFunc parameter in order (outputs preallocated, CPU tensors)."""

    def __init__(self, func, arch: str = "sm_80", options=None):
        self.func = func
        self.source, self.signature, self.lowered, _ = lower_to_source(func, Target("cuda", arch), options or {})
        (self.launch,) = collect(self.lowered.body, lambda n: isinstance(n, S.KernelLaunch))
        self.lib = _compile(self.source + self._wrapper())

    def _wrapper(self) -> str:
        args = []
        for n, (name, kind, obj) in enumerate(self.signature.params):
            if kind == "ptr":
                args.append(f"({ctype(obj.dtype)}*)args[{n}]")
            else:
                args.append(f"*({ctype(obj.dtype)}*)args[{n}]")
        call = f"{self.signature.name}({', '.join(args)})"
        return ("\nextern \"C\" void tl_host_launch(void** args, unsigned gx, unsigned gy, unsigned gz,"
                " unsigned bx, unsigned by, unsigned bz) {\n"
                f"  tl::launch([=] {{ {call}; }}, dim3{{gx, gy, gz}}, dim3{{bx, by, bz}});\n}}\n")

    def __call__(self, *tensors):
        params = self.func.params
        if len(tensors) != len(params):
            raise TypeError(f"{len(params)} arguments expected, got {len(tensors)}")
        values = {}
        for p, t in zip(params, tensors):
            if isinstance(p, Buffer):
                for s, dim in zip(p.shape, t.shape):
                    if isinstance(s, E.Var):
                        values[s] = int(dim)
            else:
                values[p] = t
        keep, slots = [], []
        for name, kind, obj in self.signature.params:
            if kind == "ptr":
                t = tensors[next(i for i, p in enumerate(params) if p is obj)]
                assert t.is_contiguous()
                slots.append(ctypes.c_void_p(t.data_ptr()))
            else:
                v = values[obj]
                c = (ctypes.c_double if obj.dtype.name == "float64" else ctypes.c_float)(v) if obj.dtype.is_float \
                    else (ctypes.c_int64 if obj.dtype.bits == 64 else ctypes.c_int32)(int(v))
                keep.append(c)
                slots.append(ctypes.cast(ctypes.pointer(c), ctypes.c_void_p))
        consts = {v: E.const(x) for v, x in values.items() if isinstance(x, int)}
        grid = [int(simplify(substitute(E.convert(g), consts)).value) for g in self.launch.grid]
        grid += [1] * (3 - len(grid))
        block = [int(t) for t in self.launch.threads] + [1] * (3 - len(self.launch.threads))
        array = (ctypes.c_void_p * max(len(slots), 1))(*[s.value for s in slots])
        self.lib.tl_host_launch(array, *[ctypes.c_uint(x) for x in grid + block])
        del keep


def _compile(source: str):
    text = source.replace('#include "tl.cuh"', f'#include "{SHIM}"')
    if "tl_gemm.cuh" in text:
        raise NotImplementedError("GEMM kernels do not run on the host shim")
    key = hashlib.sha256((text + SHIM.read_text()).encode()).hexdigest()[:24]
    _BUILD_DIR.mkdir(parents=True, exist_ok=True)
    lib = _BUILD_DIR / f"k{key}.so"
    if not lib.exists():
        src = _BUILD_DIR / f"k{key}.cpp"
        src.write_text(text)
        tmp = lib.with_suffix(f".{os.getpid()}.tmp")
        proc = subprocess.run([CXX, "-std=c++20", "-O1", "-w", "-shared", "-fPIC", "-pthread", str(src), "-o", str(tmp)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"host build failed:\n{proc.stderr[-4000:]}")
        os.replace(tmp, lib)
    return ctypes.CDLL(str(lib))
