"""Compile the CUDA our compiler generates as host C++ (host_shim.h stands in for tl.cuh) and run
it with one std::thread per CUDA thread: numeric checks of the lowering without a GPU."""
from __future__ import annotations

import ctypes
import hashlib
import os
import pathlib
import re
import signal
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
from tilelang.target import Target

SHIM = pathlib.Path(__file__).resolve().parent / "host_shim.h"
CXX = shutil.which("g++") or shutil.which("clang++")
_BUILD_DIR = pathlib.Path(tempfile.gettempdir()) / "tilelang-host-cuda"


class HostKernel:
    """`kernel(*tensors)`: every PrimFunc parameter in order (outputs preallocated, CPU tensors)."""

    def __init__(self, func, arch: str = "sm_80", options=None, late_async_copies: bool = False):
        """late_async_copies: cp.async copies land at the wait that covers them, not when issued."""
        self.func = func
        self.source, self.signature, self.lowered, ctx = lower_to_source(func, Target("cuda", arch), options or {})
        (self.launch,) = collect(self.lowered.body, lambda n: isinstance(n, S.KernelLaunch))
        source, maps = _host_gemms(self.source, func, ctx)
        self.lib = _compile(source + self._wrapper(), maps, late_async_copies)

    def _wrapper(self) -> str:
        args = []
        for n, (name, kind, obj) in enumerate(self.signature.params):
            if kind == "tensormap":
                args.append(f"*(tl::TmaDescriptor*)args[{n}]")
            elif kind == "ptr":
                args.append(f"({ctype(obj.dtype)}*)args[{n}]")
            else:
                args.append(f"*({ctype(obj.dtype)}*)args[{n}]")
        call = f"{self.signature.name}({', '.join(args)})"
        return ("\nextern \"C\" __attribute__((visibility(\"default\"))) void tl_host_launch(void** args, unsigned gx, unsigned gy, unsigned gz,"
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
        for t in tensors:
            if hasattr(t, "share_memory_"):
                t.share_memory_()  # the launch runs in a child process; results must come back
        keep, slots = [], []
        for name, kind, obj in self.signature.params:
            if kind == "tensormap":
                t = tensors[next(i for i, p in enumerate(params) if p is obj.buffer)]
                desc, address = _tensor_map(t, obj)
                keep.append(desc)
                slots.append(ctypes.c_void_p(address))
            elif kind == "ptr":
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
        _run_isolated(lambda: self.lib.tl_host_launch(array, *[ctypes.c_uint(x) for x in grid + block]),
                      self.signature.name)
        del keep


def _run_isolated(launch, name: str, timeout_s: int = 120) -> None:
    """Run a launch in a forked child (tensors already in shared memory): a fault, an abort from
    the alignment sanitizer or a hang fails the test instead of taking the test process down."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        import faulthandler

        faulthandler.disable()  # an abort is the expected way to fail here; the parent reports it
        os.close(read)
        os.dup2(write, 2)
        signal.alarm(timeout_s)
        try:
            launch()
        finally:
            ctypes.CDLL(None).fflush(None)  # the kernel's printf output, before _exit skips it
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        log = f.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise AssertionError(f"kernel {name} failed on the host (status {status}):\n{log[-3000:]}")


def _tensor_map(t, spec):
    """The host shim's stand-in for a CUtensorMap (host_shim.h, TmaDescriptor)."""
    rank = t.dim()
    words = [0] * 16
    words[0] = t.data_ptr()
    words[1] = rank | (t.element_size() << 8) | ((128 if spec.swizzle == "128B" else 0) << 16)
    dims, strides, box = list(reversed(t.shape)), list(reversed(t.stride())), list(reversed(spec.box))
    for i in range(rank):
        words[2 + i] = int(dims[i])
        words[11 + i] = int(box[i])
        if i:
            words[6 + i] = int(strides[i])
    storage = (ctypes.c_uint64 * 24)()  # the kernel parameter type is 64-byte aligned
    address = ctypes.addressof(storage) + (-ctypes.addressof(storage) % 64)
    ctypes.memmove(address, (ctypes.c_uint64 * 16)(*words), 128)
    return storage, address


_GEMM_CALL = re.compile(r"tl::(wgmma_gemm_ss|wgmma_gemm_rs|gemm_rs|gemm_ss_load_step0|gemm_ss_steps|gemm_mma_last)<")
_HOST_NAME = {"wgmma_gemm_ss": "gemm_ss", "wgmma_gemm_rs": "gemm_rs"}


def _host_gemms(source: str, func, ctx):
    """Each GEMM call becomes `tl_host::<name><ID, M, N, K, Clear>` (gemm_mma_last: `<ID, M, N, K>`)
    with offset tables GemmMaps<ID> computed here from the kernel's layouts. The ops are taken in
    program order; the parts of one mma.sync gemm_ss are told apart by their register buffers."""
    import numpy as np

    from tilelang.ir import tileop as TOP
    from tilelang.layout.mma import gemm_config, mma_k

    gemms = collect(func.body, lambda n: isinstance(n, TOP.Gemm))
    calls = list(_GEMM_CALL.finditer(source))
    if not calls:
        return source, ""
    out, pos, maps, ids, shapes = [], 0, [], {}, []
    for call in calls:
        depth, end = 1, call.end()
        while depth:  # the template argument list may nest <...>
            depth += {"<": 1, ">": -1}.get(source[end], 0)
            end += 1
        kind = call.group(1)
        names = re.findall(r"\(&(\w+)\[", source[end:source.index(";", end)])
        registers = {"gemm_ss_load_step0": names[2:3], "gemm_ss_steps": names[3:5],
                     "gemm_mma_last": names[1:2]}.get(kind, [])
        n = next((ids[r] for r in registers if r in ids), None)
        if n is None:
            n = len(shapes)
            if n >= len(gemms):
                raise NotImplementedError("GEMM calls and T.gemm ops do not line up")
            shapes.append(_gemm_maps(gemms[n], n, ctx, maps, np, gemm_config, mma_k))
        ids.update({r: n for r in registers})
        m, nn, k, clear = shapes[n]
        params = f"{n}, {m}, {nn}, {k}" + ("" if kind == "gemm_mma_last" else f", {clear}")
        out += [source[pos:call.start()], f"tl_host::{_HOST_NAME.get(kind, kind)}<{params}>"]
        pos = end
    if len(shapes) != len(gemms):
        raise NotImplementedError("GEMM calls and T.gemm ops do not line up")
    out.append(source[pos:])
    return "".join(out), "\n".join(maps)


def _gemm_maps(op, n, ctx, maps, np, gemm_config, mma_k):
    """Append GemmMaps<n> for `op` to maps; returns (M, N, K, clear)."""
    # by name: software_pipeline replaced the shared operands by multi-versioned buffers
    layouts = {b.name: lay for b, lay in ctx.layout_map.buffers.items()}
    c = layouts[op.c.buffer.name]
    m, nn = (int(x) for x in c.shape)
    a_ext = [int(e.value) for e in op.a.extents if not E.is_const(e, 1)]
    k = a_ext[0] if op.transpose_a else a_ext[-1]
    clear = "true" if op.clear_accum else "false"
    c_threads, c_regs = (np.asarray(x) for x in c.table())
    c_map = np.full(c.num_threads * c.num_registers, -1, dtype=np.int64)
    c_map[c_threads.reshape(-1) * c.num_registers + c_regs.reshape(-1)] = np.arange(m * nn)
    fields = [f"static constexpr int c_regs = {c.num_registers};", f"static constexpr int threads = {c.num_threads};",
              _table("c_map", c_map)]
    if op.a.buffer.memory_scope != "local.fragment":  # the k-steps of gemm_ss's parts
        _, _, _, warp_m, warp_n = gemm_config(op, c.num_threads)  # the fragment spans the gemm's threads
        fields.append(f"static constexpr int mma_k = {mma_k(op.a.buffer.dtype)};")
        fields.append(f"static constexpr int step_words = {m // warp_m // 16 * 4 + nn // warp_n // 8 * 2};")
    b_tile = _tile(op.b, layouts)
    b_off = (b_tile.T if op.transpose_b else b_tile).reshape(-1)  # (k, n) -> offset
    fields.append(_table("b_off", b_off))
    if op.a.buffer.memory_scope == "local.fragment":
        a = layouts[op.a.buffer.name]
        a_threads, a_regs = (np.asarray(x) for x in a.table())
        a_frag = np.full(a.num_threads * a.num_registers, -1, dtype=np.int64)
        a_frag[a_threads.reshape(-1) * a.num_registers + a_regs.reshape(-1)] = np.arange(m * k)
        fields += [f"static constexpr int a_regs = {a.num_registers};", _table("a_frag", a_frag)]
    else:
        a_tile = _tile(op.a, layouts)
        fields.append(_table("a_off", (a_tile.T if op.transpose_a else a_tile).reshape(-1)))
    maps.append(f"template <> struct tl_host::GemmMaps<{n}> {{\n  " + "\n  ".join(fields) + "\n};")
    return m, nn, k, clear


def _tile(region, layouts):
    """Offsets (relative to the region's first element) of a shared operand tile, 2-D."""
    import numpy as np

    buf = region.buffer
    shape = [int(s) for s in buf.shape]
    layout = layouts.get(buf.name)
    table = np.asarray(layout.table()) if layout is not None else np.arange(int(np.prod(shape))).reshape(shape)
    while table.ndim > 2:
        table = table[0]
    return table - table.min()


def _table(name, values) -> str:
    return f"static constexpr int {name}[{len(values)}] = {{{', '.join(str(int(v)) for v in values)}}};"


def _compile(source: str, maps: str = "", late_async_copies: bool = False):
    late = "#define TL_HOST_LATE_ASYNC_COPIES\n" if late_async_copies else ""
    text = source.replace('#include "tl.cuh"', f'{late}#include "{SHIM}"\n' + maps)
    text = text.replace('#include "tl_gemm.cuh"', "").replace('#include "tl_wgmma.cuh"', "")
    key = hashlib.sha256((text + SHIM.read_text()).encode()).hexdigest()[:24]
    _BUILD_DIR.mkdir(parents=True, exist_ok=True)
    lib = _BUILD_DIR / f"k{key}.so"
    if not lib.exists():
        src = _BUILD_DIR / f"k{key}.cpp"
        src.write_text(text)
        tmp = lib.with_suffix(f".{os.getpid()}.tmp")
        proc = subprocess.run([CXX, "-std=c++20", "-O1", "-w", "-shared", "-fPIC", "-pthread",
                               # each kernel's library keeps its own globals (no process-wide unique symbols)
                               "-fvisibility=hidden", "-fno-gnu-unique",
                               # a vector access (uint2 / uint4) at a misaligned address aborts, as a GPU
                               # would fault (the launch runs in a child process: see _run_isolated)
                               "-fsanitize=alignment", "-fno-sanitize-recover=alignment",
                               str(src), "-o", str(tmp)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"host build failed:\n{proc.stderr[-4000:]}")
        os.replace(tmp, lib)
    return ctypes.CDLL(str(lib))
