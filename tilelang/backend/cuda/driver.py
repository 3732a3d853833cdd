"""Load cubins and launch kernels through the CUDA driver API, with little host overhead.

The hot path is ctypes straight into libcuda's cuLaunchKernelEx: a `Launcher` packs every
parameter of a call with one `struct.pack_into` into a buffer whose slots a pre-built void*
array already points at, so a launch costs one pack and one foreign call. Kernels run in the
device's primary context, the one torch uses. Every driver call is checked; a failure raises
`CudaDriverError` naming the CUresult.

Parameter kinds (the kernel's parameters, in order): 'ptr' (device pointer, pass an int),
'bool', 'i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f16', 'f32', 'f64', and
'tensormap' (128-byte CUtensorMap by value for a `const __grid_constant__ tl::TmaDescriptor`
parameter, pass the bytes from tma.py).
"""
from __future__ import annotations

import ctypes
import functools
import struct
from typing import Sequence

from tilelang.errors import DeviceRuntimeError

CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0
CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1
CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3
CU_FUNC_ATTRIBUTE_NUM_REGS = 4
CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4
CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97
CUDA_ERROR_INVALID_CONTEXT = 201
STATIC_SMEM_LIMIT = 48 * 1024

# kind -> (struct format, size, alignment)
PARAM_KINDS = {
    "ptr": ("Q", 8, 8),
    "bool": ("?", 1, 1),
    "i8": ("b", 1, 1),
    "u8": ("B", 1, 1),
    "i16": ("h", 2, 2),
    "u16": ("H", 2, 2),
    "f16": ("e", 2, 2),
    "i32": ("i", 4, 4),
    "u32": ("I", 4, 4),
    "i64": ("q", 8, 8),
    "u64": ("Q", 8, 8),
    "f32": ("f", 4, 4),
    "f64": ("d", 8, 8),
    "tensormap": ("128s", 128, 64),
}


class CudaDriverError(DeviceRuntimeError):
    """A CUDA driver call failed."""

    def __init__(self, call: str, code: int):
        self.call, self.code = call, code
        super().__init__(f"{call} failed: {error_name(code)} ({code})")


# ---------------------------------------------------------------------------------------------
# libcuda through ctypes

_c_uint, _c_int, _c_size, _vp = ctypes.c_uint, ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p
_SIGNATURES = {
    "cuInit": [_c_uint],
    "cuGetErrorName": [_c_int, ctypes.POINTER(ctypes.c_char_p)],
    "cuDeviceGet": [ctypes.POINTER(_c_int), _c_int],
    "cuDeviceGetAttribute": [ctypes.POINTER(_c_int), _c_int, _c_int],
    "cuDevicePrimaryCtxRetain": [ctypes.POINTER(_vp), _c_int],
    "cuCtxGetCurrent": [ctypes.POINTER(_vp)],
    "cuCtxSetCurrent": [_vp],
    "cuModuleLoadData": [ctypes.POINTER(_vp), ctypes.c_char_p],
    "cuModuleUnload": [_vp],
    "cuModuleGetFunction": [ctypes.POINTER(_vp), _vp, ctypes.c_char_p],
    "cuFuncSetAttribute": [_vp, _c_int, _c_int],
    "cuFuncGetAttribute": [ctypes.POINTER(_c_int), _c_int, _vp],
    "cuTensorMapEncodeTiled": [_vp, _c_int, _c_uint, _vp, _vp, _vp, _vp, _vp, _c_int, _c_int, _c_int, _c_int],
}


@functools.lru_cache(maxsize=None)
def libcuda() -> ctypes.CDLL:
    """libcuda with argument types declared and cuInit done."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError as e:
        raise DeviceRuntimeError(f"cannot load the CUDA driver (libcuda.so.1): {e}; is an NVIDIA driver installed?")
    for name, argtypes in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, _c_int
    check(lib.cuInit(0), "cuInit")
    return lib


def error_name(code: int) -> str:
    try:
        name = ctypes.c_char_p()
        if libcuda().cuGetErrorName(code, ctypes.byref(name)) == 0 and name.value:
            return name.value.decode()
    except DeviceRuntimeError:
        pass
    return f"CUresult {code}"


def check(code: int, call: str) -> None:
    if code != 0:
        raise CudaDriverError(call, code)


@functools.lru_cache(maxsize=None)
def primary_context(device: int) -> int:
    """The device's primary context (torch's), retained once; torch initialises CUDA first."""
    try:
        import torch

        torch.cuda.init()
    except ImportError:
        pass
    lib, dev, ctx = libcuda(), _c_int(), _vp()
    check(lib.cuDeviceGet(ctypes.byref(dev), device), "cuDeviceGet")
    check(lib.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev), "cuDevicePrimaryCtxRetain")
    return ctx.value


@functools.lru_cache(maxsize=None)
def max_dynamic_smem(device: int) -> int:
    """The most shared memory one block may opt in to on `device` (227 KB on H100)."""
    value = _c_int()
    check(libcuda().cuDeviceGetAttribute(ctypes.byref(value), CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                                         device), "cuDeviceGetAttribute(MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)")
    return value.value


def make_current(device: int) -> None:
    """Make the device's primary context current on this thread."""
    check(libcuda().cuCtxSetCurrent(primary_context(device)), "cuCtxSetCurrent")


def current_device() -> int:
    import torch

    return torch.cuda.current_device()


def current_stream(device: int) -> int:
    """Raw handle of torch's current stream on `device` (cheaper than torch.cuda.current_stream())."""
    import torch

    return torch._C._cuda_getCurrentRawStream(device)


# ---------------------------------------------------------------------------------------------
# Modules

class Module:
    """A cubin loaded into a device's primary context."""

    def __init__(self, cubin: bytes, device: int | None = None):
        self.device = current_device() if device is None else device
        make_current(self.device)
        handle = _vp()
        check(libcuda().cuModuleLoadData(ctypes.byref(handle), cubin), "cuModuleLoadData")
        self.handle = handle.value

    def function(self, name: str) -> int:
        fn = _vp()
        check(libcuda().cuModuleGetFunction(ctypes.byref(fn), self.handle, name.encode()), f"cuModuleGetFunction({name!r})")
        return fn.value

    def __del__(self):
        try:
            if self.handle:
                libcuda().cuModuleUnload(self.handle)
        except Exception:
            pass  # interpreter shutdown


def function_attribute(function: int, attribute: int) -> int:
    value = _c_int()
    check(libcuda().cuFuncGetAttribute(ctypes.byref(value), attribute, function), "cuFuncGetAttribute")
    return value.value


# ---------------------------------------------------------------------------------------------
# Parameters and launches

class ParamBuffer:
    """Storage for one call's kernel parameters, laid out once for a list of kinds.

    `pack(*values)` writes all values with one struct.pack_into; `pointers` is the void*[]
    array cuLaunchKernelEx reads, pointing at each value's slot.
    """

    def __init__(self, kinds: Sequence[str]):
        unknown = [k for k in kinds if k not in PARAM_KINDS]
        if unknown:
            raise ValueError(f"unknown kernel parameter kind(s) {unknown}: expected one of {sorted(PARAM_KINDS)}")
        fmt, offsets, offset = "<", [], 0
        for kind in kinds:
            code, size, align = PARAM_KINDS[kind]
            pad = -offset % align
            fmt += f"{pad}x" * bool(pad) + code
            offset += pad
            offsets.append(offset)
            offset += size
        self.kinds = tuple(kinds)
        self.struct = struct.Struct(fmt)
        # over-allocate so the first slot can sit on a 64-byte boundary (tensor maps)
        self._storage = ctypes.create_string_buffer(max(offset, 1) + 64)
        base = ctypes.addressof(self._storage)
        self.shift = -base % 64
        self.address = base + self.shift
        self.pointers = (_vp * max(len(kinds), 1))(*(self.address + o for o in offsets))
        self.offsets = tuple(offsets)

    def pack(self, *values) -> None:
        self.struct.pack_into(self._storage, self.shift, *values)

    def raw(self) -> bytes:
        return self._storage.raw[self.shift : self.shift + self.struct.size]


class LaunchConfig(ctypes.Structure):
    _fields_ = [("grid", _c_uint * 3), ("block", _c_uint * 3), ("shared_mem_bytes", _c_uint),
                ("stream", _vp), ("attrs", _vp), ("num_attrs", _c_uint)]


class LaunchAttribute(ctypes.Structure):
    _fields_ = [("id", _c_int), ("pad", ctypes.c_char * 4), ("value", _c_uint * 16)]


def launch_entry():
    """cuLaunchKernelEx as a function object of its own, without argtypes: arguments pass unconverted."""
    lib = libcuda()
    launch_ex = lib._FuncPtr(("cuLaunchKernelEx", lib))
    launch_ex.restype = _c_int
    return launch_ex


class Launcher:
    """One kernel of a loaded cubin with a fixed parameter signature and block shape.

    `launcher(grid, stream, *values)` launches a grid of three ints on `stream` (a raw
    CUstream handle, e.g. current_stream(device)); values follow `param_kinds`. Not safe to
    call from two threads at once: the parameter buffer and launch config are shared.

    Every launch is a cuLaunchKernelEx on a CUlaunchConfig that lives as long as the launcher:
    a call packs the values, rewrites the config only when the grid object or the stream
    changed, and calls the driver with four pre-built pointer arguments, so ctypes converts
    nothing per call (converting cuLaunchKernel's eleven arguments cost more than the launch).
    """

    _CONFIG_HEAD = struct.Struct("<7I4xQ")  # grid, block, shared bytes, (pad), stream

    def __init__(self, cubin: bytes | Module, name: str, param_kinds: Sequence[str], *, block: Sequence[int],
                 dynamic_smem: int = 0, cluster: Sequence[int] | None = None, device: int | None = None):
        self.module = cubin if isinstance(cubin, Module) else Module(cubin, device)
        self.device = self.module.device
        self.name = name
        self.function = self.module.function(name)
        self.block = tuple(block) + (1,) * (3 - len(block))
        self.dynamic_smem = int(dynamic_smem)
        if self.dynamic_smem > STATIC_SMEM_LIMIT:
            limit = max_dynamic_smem(self.device)
            if self.dynamic_smem > limit:
                raise DeviceRuntimeError(f"kernel {name} needs {self.dynamic_smem} bytes of shared memory; device "
                                         f"{self.device} allows at most {limit} per block (use smaller tiles or "
                                         "fewer pipeline stages)")
            check(libcuda().cuFuncSetAttribute(self.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                               self.dynamic_smem), "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)")
        self.params = ParamBuffer(param_kinds)
        self.cluster = tuple(cluster) + (1,) * (3 - len(cluster)) if cluster else None
        self._config = LaunchConfig(block=(_c_uint * 3)(*self.block), shared_mem_bytes=self.dynamic_smem)
        if self.cluster and self.cluster != (1, 1, 1):
            self._attr = LaunchAttribute(id=CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
            self._attr.value[0:3] = self.cluster
            self._config.attrs, self._config.num_attrs = ctypes.addressof(self._attr), 1
        self._grid, self._stream = None, None
        self._launch = functools.partial(launch_entry(), _vp(ctypes.addressof(self._config)), _vp(self.function),
                                         self.params.pointers, None)

    def __call__(self, grid: tuple[int, int, int], stream: int, *values) -> None:
        self.params.pack(*values)
        if grid is not self._grid or stream != self._stream:
            gx, gy, gz = grid
            bx, by, bz = self.block
            self._CONFIG_HEAD.pack_into(self._config, 0, gx, gy, gz, bx, by, bz, self.dynamic_smem, stream)
            self._grid, self._stream = grid, stream
        code = self._launch()
        if code:
            self._retry(code)

    def _retry(self, code: int) -> None:
        # a thread that never touched CUDA has no current context: set it and launch again
        if code == CUDA_ERROR_INVALID_CONTEXT:
            make_current(self.device)
            code = self._launch()
        if code:
            self._grid = None  # rewrite the config next time
            grid = tuple(self._config.grid)
            raise CudaDriverError(f"cuLaunchKernelEx({self.name}, grid={grid}, block={self.block}, "
                                  f"dynamic_smem={self.dynamic_smem}, cluster={self.cluster})", code)

    def attributes(self) -> dict[str, int]:
        """Registers, spills (local bytes), static shared memory and the thread limit of the kernel."""
        get = functools.partial(function_attribute, self.function)
        return {"num_regs": get(CU_FUNC_ATTRIBUTE_NUM_REGS), "local_bytes": get(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES),
                "static_smem": get(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES),
                "max_threads": get(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK)}
