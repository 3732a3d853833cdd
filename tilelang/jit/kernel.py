"""JITKernel: a compiled kernel you call with torch tensors."""
from __future__ import annotations

from ..errors import TileLangValueError
from ..ir.function import PrimFunc
from .arguments import ArgumentBinder
from .pass_config import normalize_pass_configs
from ..target import Target, cuda_available, parse_target
from ..ir.buffer import Buffer
from .. import backend
from .arguments import fast_bind_parts
from ..profiler import Profiler


def normalize_out_idx(out_idx, num_params: int) -> list:
    if out_idx is None:
        return []
    idx = [out_idx] if isinstance(out_idx, int) else list(out_idx)
    out = []
    for i in idx:
        if isinstance(i, bool) or not isinstance(i, int) or not -num_params <= i < num_params:
            raise TileLangValueError(f"out_idx {out_idx!r}: index {i!r} is out of range for {num_params} parameters")
        out.append(i % num_params)
    if len(set(out)) != len(out):
        raise TileLangValueError(f"out_idx {out_idx!r} names a parameter twice")
    return sorted(out)


class JITKernel:
    """`kernel(*inputs)` checks the inputs, allocates the `out_idx` outputs, runs, returns them.

    With target "auto" the kernel runs where its tensors are: CUDA tensors on the GPU,
    CPU tensors on the CPU interpreter; each is compiled on first need.
    """

    def __init__(self, func: PrimFunc, out_idx=None, target="auto", pass_configs=None, execution_backend="auto",
                 verbose=False, compile_flags=None, target_host=None):
        if not isinstance(func, PrimFunc):
            raise TileLangValueError(f"tilelang.compile expects a @T.prim_func, got {type(func).__name__}")
        self.prim_func = func
        if out_idx is None:
            out_idx = func.attrs.get("out_idx")
        self.out_idx = normalize_out_idx(out_idx, len(func.params))

        for i in self.out_idx:
            if not isinstance(func.params[i], Buffer):
                raise TileLangValueError(f"out_idx names the scalar parameter {func.params[i].name}; outputs must be tensors")
        self.target = parse_target(target)
        self.options = {"pass_configs": normalize_pass_configs(pass_configs), "verbose": bool(verbose),
                        "compile_flags": compile_flags, "execution_backend": execution_backend}
        # Set by the autotuner on the kernel it returns; None on a kernel that was not tuned.
        self.config = self.latency = self.ref_latency = None
        self._artifacts: dict = {}
        self._binders: dict = {}
        self._calls: dict = {}  # kind -> (fused per-call function, its MISS) or False: see _make_call
        first = self.target if self.target is not None else (Target("cuda") if cuda_available() else Target("cpu"))
        self._build(first)
        self._default_kind = first.kind

    # -- compilation --------------------------------------------------------------
    def _build(self, target: Target):

        artifact = backend.build(self.prim_func, target, self.options)
        self._artifacts[target.kind] = artifact
        self._binders[target.kind] = ArgumentBinder(self.prim_func, self.out_idx, target.kind)
        return artifact

    def artifact(self, kind: str | None = None):
        kind = kind or self._default_kind
        art = self._artifacts.get(kind)
        if art is None:
            art = self._build(Target(kind))
        return art

    # -- calling ------------------------------------------------------------------
    def __call__(self, *args):
        kind = self._default_kind
        if self.target is None and args:
            is_cuda = getattr(args[0], "is_cuda", None)  # the common case, without a scan
            kind = _device_kind_of(args, kind) if is_cuda is None else ("cuda" if is_cuda else "cpu")
            if kind not in self._artifacts:
                self._build(Target(kind))
        fused = self._calls.get(kind)
        if fused is None:
            fused = self._calls[kind] = self._make_call(kind)
        if fused:
            call, miss = fused
            result = call(args)
            if result is not miss:
                return result
        binder = self._binders[kind]
        full, sizes = binder.bind(args)
        self._artifacts[kind].launch(full, sizes)
        if not self.out_idx:
            return None
        outs = [full[i] for i in self.out_idx]
        return outs[0] if len(outs) == 1 else outs

    def _make_call(self, kind: str):
        """(the backend's fused check-pack-launch function for this kernel, its MISS), or False.

        It handles the common call in one generated frame and answers MISS for anything else,
        which then takes the general path above (the one that names bad arguments)."""

        make = getattr(self._artifacts[kind], "make_call", None)
        checks = fast_bind_parts(self._binders[kind]) if make is not None else None
        if checks is None:
            return False
        outs = [checks.full[i] for i in self.out_idx]
        result = "None" if not outs else outs[0] if len(outs) == 1 else "[" + ", ".join(outs) + "]"
        call = make(checks, result)
        return call, call.miss

    # -- introspection --------------------------------------------------------------
    @property
    def params(self):
        return self.prim_func.params

    def get_kernel_source(self, kind: str | None = None) -> str:
        """The generated CUDA C++ (on the CPU backend, the IR it interprets)."""
        return self.artifact(kind).source

    def get_host_source(self) -> str:
        return ""

    def get_profiler(self, tensor_supply_type=None):

        return Profiler(self, tensor_supply_type)

    def show_layouts(self, kind: str | None = None) -> str:
        text = getattr(self.artifact(kind), "layout_report", lambda: "(no layouts: the CPU backend runs tiles whole)")()
        print(text)
        return text

    def __repr__(self) -> str:
        where = str(self.target) if self.target is not None else f"auto ({self._default_kind})"
        return f"<JITKernel {self.prim_func.name} target={where} out_idx={self.out_idx}>"


def _device_kind_of(args, default: str) -> str:
    for a in args:
        dev = getattr(a, "device", None)
        if dev is not None and hasattr(a, "data_ptr"):
            return "cuda" if dev.type == "cuda" else "cpu"
    return default


