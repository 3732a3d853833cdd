"""Launching a compiled CUDA kernel: the launch plan the codegen writes, and the artifact the JIT calls.

A call should cost a few microseconds of Python, so the plan is turned once into a small
generated function (`CudaArtifact.pack_source` shows it) that reads each kernel parameter
straight from the call's arguments: a data pointer, a scalar, a cached TMA descriptor or a
symbolic size. A `driver.Launcher` then packs them into a reused parameter buffer and calls
cuLaunchKernel on torch's current stream. The cubin is loaded once per device, on first use.
"""
from __future__ import annotations

import dataclasses
import operator
import struct
from typing import Any

from tilelang.errors import ArgumentError, DeviceRuntimeError

from . import driver
from . import tma
from tilelang.ir import expr as E
from tilelang.ir.visitor import collect, substitute
from tilelang.arith import simplify

PARAM_KINDS = ("tensor", "scalar", "tma_desc", "size")

# tilelang scalar dtype -> driver parameter kind (the C type of the kernel parameter)
SCALAR_CTYPES = {
    "bool": "bool", "int8": "i8", "uint8": "u8", "int16": "i16", "uint16": "u16", "int32": "i32", "uint32": "u32",
    "int64": "i64", "uint64": "u64", "float16": "f16", "float32": "f32", "float64": "f64",
}
GRID_LIMITS = (2**31 - 1, 65535, 65535)


def scalar_ctype(dtype) -> str:
    """The driver parameter kind of a scalar of `dtype` ('int32' -> 'i32')."""
    name = str(dtype)
    if name not in SCALAR_CTYPES:
        raise TypeError(f"a {name} scalar cannot be a kernel parameter: supported are {sorted(SCALAR_CTYPES)}")
    return SCALAR_CTYPES[name]


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One kernel parameter, in the kernel's parameter order.

    kind "tensor": the data pointer of PrimFunc parameter `index` (`align` > 1: its required
    byte alignment, checked per call); "scalar": the value of parameter `index`; "tma_desc":
    a CUtensorMap over the tensor parameter `index`, passed by value; "size": the symbolic size
    named `name` (codegen appends these, in `size_vars` order, as int32).
    """

    kind: str
    ctype: str
    index: int | None = None
    name: str = ""
    align: int = 0
    # tma_desc only: what cuTensorMapEncodeTiled needs besides the tensor (see tma.encode_tiled)
    dtype: str | None = None
    box: tuple = ()
    swizzle: str = "none"
    l2_promotion: str = "128B"
    oob_fill: str = "zero"
    element_strides: tuple | None = None

    def __post_init__(self):
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"parameter {self.name!r}: kind {self.kind!r} is not one of {PARAM_KINDS}")
        if self.ctype not in driver.PARAM_KINDS:
            raise ValueError(f"parameter {self.name!r}: ctype {self.ctype!r} is not one of {sorted(driver.PARAM_KINDS)}")
        if (self.index is None) != (self.kind == "size"):
            raise ValueError(f"parameter {self.name!r}: kind {self.kind!r} " +
                             ("takes no PrimFunc index" if self.kind == "size" else "needs the PrimFunc parameter index"))
        expected = {"tensor": "ptr", "tma_desc": "tensormap"}.get(self.kind)
        if expected and self.ctype != expected:
            raise ValueError(f"parameter {self.name!r}: a {self.kind} is passed as {expected!r}, not {self.ctype!r}")
        if self.kind == "tma_desc" and not (self.box and self.dtype):
            raise ValueError(f"parameter {self.name!r}: a TMA descriptor needs its dtype and box")

    @classmethod
    def tensor(cls, index: int, name: str, align: int = 0) -> "ParamSpec":
        return cls("tensor", "ptr", index, name, align)

    @classmethod
    def scalar(cls, index: int, name: str, dtype) -> "ParamSpec":
        return cls("scalar", scalar_ctype(dtype), index, name)

    @classmethod
    def tma(cls, index: int, name: str, dtype, box, **options) -> "ParamSpec":
        return cls("tma_desc", "tensormap", index, name, dtype=str(dtype), box=tuple(box), **options)

    @classmethod
    def size(cls, name: str, dtype="int32") -> "ParamSpec":
        return cls("size", scalar_ctype(dtype), None, name)


@dataclasses.dataclass(frozen=True)
class LaunchPlan:
    """How to launch one kernel: its parameters, grid (ints or IR expressions over symbolic
    sizes and scalar parameters), block, dynamic shared memory and optional cluster shape."""

    kernel_name: str
    params: tuple
    grid: tuple
    block: tuple
    smem_bytes: int = 0
    cluster: tuple | None = None

    def __post_init__(self):
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "grid", tuple(self.grid) + (1,) * (3 - len(self.grid)))
        object.__setattr__(self, "block", tuple(int(b) for b in self.block) + (1,) * (3 - len(self.block)))
        if len(self.grid) != 3 or len(self.block) != 3:
            raise ValueError(f"kernel {self.kernel_name}: grid and block have at most 3 dimensions")
        threads = self.block[0] * self.block[1] * self.block[2]
        if not 1 <= threads <= 1024 or min(self.block) < 1:
            raise ValueError(f"kernel {self.kernel_name}: block {self.block} must hold 1..1024 threads")
        if self.smem_bytes < 0:
            raise ValueError(f"kernel {self.kernel_name}: negative shared memory size {self.smem_bytes}")

    @property
    def size_vars(self) -> tuple:
        """Names of the symbolic sizes passed as trailing kernel parameters, in order."""
        return tuple(p.name for p in self.params if p.kind == "size")

    def grid_var_names(self) -> tuple:
        """Names of the variables the grid depends on."""

        names = []
        for g in self.grid:
            if isinstance(g, E.Expr):
                for v in collect(g, lambda n: isinstance(n, E.Var)):
                    if v.name not in names:
                        names.append(v.name)
        return tuple(names)


class _SizeReader:
    """Reads named sizes from a call's {Var: int} dict; remembers the Var objects after the first call."""

    def __init__(self, names: tuple):
        self.names = names
        self._get = None

    def __call__(self, sizes: dict) -> tuple:
        try:
            return self._get(sizes)
        except (KeyError, TypeError):  # first call, or Vars of another PrimFunc object
            by_name = {getattr(v, "name", v): v for v in sizes}
            missing = [n for n in self.names if n not in by_name]
            if missing:
                raise ArgumentError(f"no value for the symbolic size(s) {', '.join(missing)}: the arguments bind "
                                    f"{sorted(by_name) or 'none'}") from None
            keys = [by_name[n] for n in self.names]
            self._get = operator.itemgetter(*keys) if len(keys) > 1 else (lambda d, k=keys[0]: (d[k],))
            return self._get(sizes)


class _GridEvaluator:
    """Grid dimensions for given size values, evaluated with the IR's own arithmetic and memoised."""

    def __init__(self, plan: LaunchPlan, names: tuple):
        self.plan, self.names = plan, names
        self._memo: dict[tuple, tuple] = {}

    def __call__(self, values: tuple) -> tuple:
        grid = self._memo.get(values)
        if grid is None:
            if len(self._memo) > 4096:
                self._memo.clear()
            grid = self._memo[values] = self._evaluate(values)
        return grid

    def _evaluate(self, values: tuple) -> tuple:
        bound = dict(zip(self.names, values))
        grid = []
        for axis, g in enumerate(self.plan.grid):
            if isinstance(g, E.Expr):
                mapping = {v: E.const(bound[v.name], v.dtype) for v in collect(g, lambda n: isinstance(n, E.Var))}
                folded = simplify(substitute(g, mapping))
                if not isinstance(folded, E.IntImm):
                    raise DeviceRuntimeError(f"kernel {self.plan.kernel_name}: grid dimension {axis} ({g!r}) does "
                                             f"not evaluate to an integer for {bound}")
                g = folded.value
            grid.append(int(g))
        _check_grid(self.plan.kernel_name, tuple(grid), bound)
        return tuple(grid)


def _check_grid(kernel: str, grid: tuple, bound: dict) -> None:
    for axis, (n, limit) in enumerate(zip(grid, GRID_LIMITS)):
        if not 0 <= n <= limit:
            where = f" for {bound}" if bound else ""
            raise DeviceRuntimeError(f"kernel {kernel}: grid {grid}{where} is out of range: dimension {axis} must be "
                                     f"0..{limit}")


def _misaligned(plan: LaunchPlan, k: int, pointer: int):
    spec = plan.params[k]
    raise ArgumentError(f"parameter {spec.name}: its data pointer {pointer:#x} is not {spec.align}-byte aligned, "
                        f"which the kernel's {spec.align}-byte vector accesses need (a view at an offset? "
                        "pass a fresh tensor, e.g. .clone())")


_MISS = object()  # what a generated call returns when the general path must run


class CudaArtifact:
    """A compiled CUDA kernel, launchable with the JIT's (args in parameter order, {Var: int} sizes).

    Picklable (the disk cache stores it); the loaded module and launch state are rebuilt lazily.
    """

    device_kind = "cuda"

    def __init__(self, source: str, cubin: bytes, kernel_name: str, launch_plan: LaunchPlan,
                 layout_report_text: str = ""):
        if kernel_name != launch_plan.kernel_name:
            raise ValueError(f"kernel name {kernel_name!r} differs from the launch plan's {launch_plan.kernel_name!r}")
        self.source = source
        self.cubin = cubin
        self.kernel_name = kernel_name
        self.launch_plan = launch_plan
        self.layout_report_text = layout_report_text
        self._launchers: dict[int, driver.Launcher] = {}
        self.pack, self.pack_source = _make_packer(launch_plan)
        self._torch = None

    # -- the Artifact protocol --------------------------------------------------------
    def launch(self, args, sizes) -> None:
        """Launch on torch's current stream of the device holding the tensors; asynchronous."""
        grid, values, device = self.pack(args, sizes)
        if not (grid[0] and grid[1] and grid[2]):
            return  # an empty problem (a size of 0): nothing to run
        launcher = self._launchers.get(device) or self._load(device)
        torch_c = self._torch
        try:
            if torch_c._cuda_getDevice() == device:
                launcher(grid, torch_c._cuda_getCurrentRawStream(device), *values)
            else:
                import torch

                with torch.cuda.device(device):
                    launcher(grid, torch_c._cuda_getCurrentRawStream(device), *values)
        except struct.error as e:
            raise self._explain_pack_error(values, e) from None

    def make_call(self, checks, result: str):
        """One generated function for the JIT's per-call path: `checks` (a jit.arguments.FastBind:
        argument checks, outputs allocated), then packing and the launch, then `result` (an
        expression of the checks' names). It returns checks' MISS for anything unusual (a
        launcher not loaded yet, another current device, an empty grid), and the JIT then takes
        the general path, which also produces every error message."""
        lines, scope, values = _pack_lines(self.launch_plan, checks.full, "sizes", checks.device)
        scope.update(checks.scope)
        scope.update(MISS=_MISS, launchers=self._launchers, torch_c=self._torch_c(),
                     struct_error=struct.error, explain=self._explain_pack_error)
        body = ["try:"] + [f"    {line}" for line in checks.lines] + ["except AttributeError:", "    return MISS"]
        if "read_sizes" in scope:  # the kernel takes symbolic sizes: they are read from a dict
            body.append(f"sizes = {{{', '.join(checks.sizes)}}}")
        body += lines
        body += ["launcher = launchers.get(device)",
                 "if launcher is None or not (grid[0] and grid[1] and grid[2]) or torch_c._cuda_getDevice() != device:",
                 "    return MISS",
                 f"values = ({''.join(v + ', ' for v in values)})",
                 "try:",
                 "    launcher(grid, torch_c._cuda_getCurrentRawStream(device), *values)",
                 "except struct_error as e:",
                 "    raise explain(values, e) from None",
                 f"return {result}"]
        source = "def call(args):\n" + "".join(f"    {line}\n" for line in body)
        exec(compile(source, f"<tilelang call {self.kernel_name}>", "exec"), scope)
        call = scope["call"]
        call.source, call.miss = source, _MISS
        return call

    @staticmethod
    def _torch_c():
        import torch

        return torch._C

    def layout_report(self) -> str:
        return self.layout_report_text or f"(kernel {self.kernel_name}: no shared or fragment buffers)"

    # -- the rest -----------------------------------------------------------------------
    def attributes(self, device: int | None = None) -> dict:
        """Registers per thread, local (spill) bytes, static shared memory, thread limit."""
        if device is None:
            device = driver.current_device()
        return (self._launchers.get(device) or self._load(device)).attributes()

    def _load(self, device: int) -> driver.Launcher:
        import torch

        if device < 0:
            raise ArgumentError(f"kernel {self.kernel_name}: its tensors must be on a CUDA device")
        self._torch = self._torch_c()
        plan = self.launch_plan
        with torch.cuda.device(device):
            launcher = driver.Launcher(self.cubin, plan.kernel_name, [p.ctype for p in plan.params], block=plan.block,
                                       dynamic_smem=plan.smem_bytes, cluster=plan.cluster, device=device)
        self._launchers[device] = launcher
        return launcher

    def _explain_pack_error(self, values, error) -> Exception:
        for spec, value in zip(self.launch_plan.params, values):
            fmt = driver.PARAM_KINDS[spec.ctype][0]
            try:
                struct.pack("<" + fmt, value)
            except struct.error:
                return ArgumentError(f"parameter {spec.name}: {value!r} does not fit the kernel's {spec.ctype} "
                                     "parameter")
        return ArgumentError(f"kernel {self.kernel_name}: cannot pack its parameters: {error}")

    def __getstate__(self):
        return {"source": self.source, "cubin": self.cubin, "kernel_name": self.kernel_name,
                "launch_plan": self.launch_plan, "layout_report_text": self.layout_report_text}

    def __setstate__(self, state):
        self.__init__(**state)

    def __repr__(self) -> str:
        plan = self.launch_plan
        return (f"<CudaArtifact {self.kernel_name} grid={plan.grid} block={plan.block} smem={plan.smem_bytes} "
                f"cubin={len(self.cubin)} bytes>")


def _make_packer(plan: LaunchPlan):
    """Generate `pack(args, sizes) -> (grid, values, device)` for `plan`, and its source text.

    Straight-line code with every index a constant: the per-call work is one read per
    parameter, no loop and no dispatch on kinds.
    """
    lines, scope, values = _pack_lines(plan, [f"args[{i}]" for i in range(_num_args(plan))], "sizes")
    lines.append(f"return grid, ({''.join(v + ', ' for v in values)}), device")
    source = "def pack(args, sizes):\n" + "".join(f"    {line}\n" for line in lines)
    exec(compile(source, f"<launch plan of {plan.kernel_name}>", "exec"), scope)
    return scope["pack"], source


def _num_args(plan: LaunchPlan) -> int:
    return 1 + max((p.index for p in plan.params if p.kind in ("tensor", "scalar", "tma_desc")), default=-1)


def _pack_lines(plan: LaunchPlan, arg: list, sizes: str, device: str | None = None):
    """Lines that set `grid`, `device` and v0.. (the kernel's parameter values) from the
    argument expressions `arg[i]` and the {Var: int} dict named `sizes`; (lines, scope, values).
    `device`: an expression already holding the tensors' device index, if the caller has one."""

    grid_names = plan.grid_var_names()
    names = tuple(dict.fromkeys(plan.size_vars + grid_names))
    scope: dict[str, Any] = {"misaligned": lambda k, p: _misaligned(plan, k, p)}
    body, values = [], []
    if names:
        scope["read_sizes"] = _SizeReader(names)
        body.append(f"sv = read_sizes({sizes})")
    first_tensor = None
    for k, spec in enumerate(plan.params):
        v = f"v{k}"
        values.append(v)
        if spec.kind == "tensor":
            first_tensor = spec.index if first_tensor is None else first_tensor
            body.append(f"{v} = {arg[spec.index]}.data_ptr()")
            if spec.align > 1:
                body.append(f"if {v} % {spec.align}: misaligned({k}, {v})")
        elif spec.kind == "scalar":
            body.append(f"{v} = {arg[spec.index]}")
        elif spec.kind == "tma_desc":
            first_tensor = spec.index if first_tensor is None else first_tensor
            cache = tma.TmaDescriptorCache(spec.dtype, spec.box, element_strides=spec.element_strides,
                                           swizzle=spec.swizzle, l2_promotion=spec.l2_promotion,
                                           oob_fill=spec.oob_fill)
            scope[f"tma{k}"] = cache.for_tensor
            body.append(f"{v} = tma{k}({arg[spec.index]})")
        else:
            body.append(f"{v} = sv[{names.index(spec.name)}]")
    if grid_names:
        scope["grid_of"] = _GridEvaluator(plan, names)
        body.append("grid = grid_of(sv)")
    else:
        grid = tuple(int(g) for g in plan.grid)
        _check_grid(plan.kernel_name, grid, {})
        scope["GRID"] = grid
        body.append("grid = GRID")
    if device is not None:
        body.append(f"device = {device}")
    elif first_tensor is not None:
        body.append(f"device = {arg[first_tensor]}.get_device()")
    else:
        scope["current_device"] = driver.current_device
        body.append("device = current_device()")
    return body, scope, values
