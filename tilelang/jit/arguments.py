"""Checking a kernel call's arguments against its parameters, and making its outputs.

Each error names the parameter and says what was expected and what was given. Symbolic
sizes (T.dynamic) are bound from the first tensor that has them and must agree across
parameters. The checks are prepared once per kernel so a call does little work.
"""
from __future__ import annotations

from ..errors import ArgumentError
from ..ir import expr as E
from ..ir.buffer import Buffer
from ..ir.visitor import collect
from ..arith import simplify
from ..ir.visitor import substitute


class _Dim:
    """One dimension of a parameter: a constant, a symbolic var, or an expression of vars."""

    __slots__ = ("kind", "value")

    def __init__(self, e):
        if isinstance(e, E.IntImm):
            self.kind, self.value = "const", e.value
        elif isinstance(e, E.Var):
            self.kind, self.value = "var", e
        else:
            self.kind, self.value = "expr", e


class ArgumentBinder:
    """Binds `kernel(*inputs)` to the function's parameters; allocates the outputs."""

    def __init__(self, func, out_idx: list, device_kind: str):
        self.func = func
        self.params = list(func.params)
        self.out_idx = list(out_idx)
        self.device_kind = device_kind  # "cpu" | "cuda"
        self.inputs = [i for i in range(len(self.params)) if i not in self.out_idx]
        self.dims = {i: [_Dim(s) for s in p.shape] for i, p in enumerate(self.params) if isinstance(p, Buffer)}
        self._torch_dtypes = {}
        self.static_shapes = {i: tuple(d.value for d in dims) if all(d.kind == "const" for d in dims) else None
                              for i, dims in self.dims.items()}
        self._fast = None  # generated on first call: see _compile_fast_bind

    def torch_dtype(self, i):
        t = self._torch_dtypes.get(i)
        if t is None:
            t = self._torch_dtypes[i] = self.params[i].dtype.torch
        return t

    def bind(self, args) -> tuple:
        """(all arguments in parameter order, {Var: int} for symbolic sizes)."""
        fast = self._fast
        if fast is None:
            fast = self._fast = _compile_fast_bind(self)
        if fast is not False:
            bound = fast(args)
            if bound is not None:
                return bound
        return self.bind_checked(args)

    def bind_checked(self, args) -> tuple:
        """The full check, one parameter at a time, raising an error that names the first bad one."""
        import torch

        if len(args) != len(self.inputs):
            names = ", ".join(self._name(i) for i in self.inputs)
            outs = f" ({', '.join(self._name(i) for i in self.out_idx)} are outputs, created by the kernel)" if self.out_idx else ""
            raise ArgumentError(f"{self.func.name}() takes {len(self.inputs)} argument(s) ({names}){outs}, got {len(args)}")
        values: dict = {}
        full = [None] * len(self.params)
        device = None
        for i, arg in zip(self.inputs, args):
            p = self.params[i]
            full[i] = arg
            if isinstance(p, Buffer):
                device = self._check_tensor(i, p, arg, values, device, torch)
            else:
                full[i] = self._check_scalar(i, p, arg)
                values[p] = full[i]
        for i, dims in self.dims.items():
            if i in self.inputs:
                self._check_exprs(i, dims, full[i], values)
        if self.out_idx:
            if device is None:
                device = torch.device("cuda") if self.device_kind == "cuda" else torch.device("cpu")
            for i in self.out_idx:
                shape = self.output_shape(i, values)
                full[i] = torch.empty(shape, dtype=self.torch_dtype(i), device=device)
        return full, values

    def output_shape(self, i, values) -> tuple:
        static = self.static_shapes.get(i)
        if static is not None:
            return static
        shape = []
        for d in self.dims[i]:
            if d.kind == "const":
                shape.append(d.value)
            else:
                v = _evaluate(d.value, values)
                if v is None:
                    raise ArgumentError(f"cannot size output {self._name(i)}: its shape {tuple(self.params[i].shape)!r} "
                                        "uses a symbolic size that no input tensor binds")
                shape.append(v)
        return tuple(shape)

    # -- checks -------------------------------------------------------------------
    def _name(self, i) -> str:
        return self.params[i].name

    def _check_tensor(self, i, p, t, values, device, torch):
        name = self._name(i)
        if not isinstance(t, torch.Tensor):
            raise ArgumentError(f"parameter {name}: expected a torch.Tensor of shape {_shape_str(p.shape)} and dtype "
                                f"{p.dtype}, got {type(t).__name__}")
        if t.dtype != self.torch_dtype(i):
            raise ArgumentError(f"parameter {name}: expected dtype {p.dtype}, got {str(t.dtype).replace('torch.', '')}")
        dims = self.dims[i]
        if t.dim() != len(dims):
            raise ArgumentError(f"parameter {name}: expected {len(dims)} dimensions {_shape_str(p.shape)}, "
                                f"got shape {tuple(t.shape)}")
        for axis, (d, n) in enumerate(zip(dims, t.shape)):
            if d.kind == "const":
                if d.value != n:
                    raise ArgumentError(f"parameter {name}: expected shape {_shape_str(p.shape)}, got {tuple(t.shape)} "
                                        f"(dimension {axis} is {n}, expected {d.value})")
            elif d.kind == "var":
                bound = values.get(d.value)
                if bound is None:
                    values[d.value] = int(n)
                elif bound != n:
                    raise ArgumentError(f"parameter {name}: dimension {axis} is {n}, but the symbolic size "
                                        f"{d.value.name} is {bound} from an earlier argument")
        kind = t.device.type
        if kind != self.device_kind:
            raise ArgumentError(f"parameter {name}: expected a {self.device_kind.upper()} tensor, got one on {t.device}")
        if device is not None and t.device != device:
            raise ArgumentError(f"parameter {name}: is on {t.device} but earlier tensors are on {device}")
        if self.device_kind == "cuda" and not t.is_contiguous():
            raise ArgumentError(f"parameter {name}: expected a contiguous tensor, got strides {t.stride()} for shape "
                                f"{tuple(t.shape)} (call .contiguous())")
        return t.device

    def _check_scalar(self, i, p, v):
        name = self._name(i)
        if p.dtype.is_float:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ArgumentError(f"parameter {name}: expected a {p.dtype} number, got {type(v).__name__}")
            return float(v)
        if isinstance(v, bool) and not p.dtype.is_bool:
            raise ArgumentError(f"parameter {name}: expected an {p.dtype} integer, got bool")
        try:
            return int(v)
        except (TypeError, ValueError):
            raise ArgumentError(f"parameter {name}: expected an {p.dtype} integer, got {type(v).__name__}") from None

    def _check_exprs(self, i, dims, t, values):
        for axis, d in enumerate(dims):
            if d.kind == "expr":
                want = _evaluate(d.value, values)
                if want is not None and want != t.shape[axis]:
                    raise ArgumentError(f"parameter {self._name(i)}: dimension {axis} is {t.shape[axis]}, expected "
                                        f"{d.value!r} = {want}")


def _shape_str(shape) -> str:
    return "(" + ", ".join(repr(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _evaluate(e, values):
    """An integer expression of bound vars, or None if a var is unbound."""

    mapping = {}
    for v in collect(e, lambda n: isinstance(n, E.Var)):
        if v not in values:
            return None
        mapping[v] = E.const(values[v], v.dtype)

    r = simplify(substitute(e, mapping))
    return r.value if isinstance(r, E.IntImm) else None


class FastBind:
    """Generated straight-line checks for one kernel's arguments (see `fast_bind_parts`).

    `lines` read `args`, bind `a<i>` (inputs) and `o<i>` (allocated outputs) and execute
    `return MISS` on anything the checked path must look at; `full` are the expressions of all
    parameters in order, `sizes` the `key: value` items of the {Var: int} dict, `device` the
    expression of the tensors' device index (CUDA only) and `scope` the names the lines use.
    Backends splice them into their own generated launch code.
    """

    def __init__(self, lines, scope, full, sizes, device):
        self.lines, self.scope, self.full, self.sizes, self.device = lines, scope, full, sizes, device


def fast_bind_parts(binder: ArgumentBinder):
    """The checks of `_compile_fast_bind` as parts (a FastBind), or None where there is no fast path.

    Only arguments that pass every check get through (a tensor of the exact dtype, shape, device
    kind and, on CUDA, contiguity and one device; scalars of the right kind); anything else
    returns MISS so that `bind_checked` finds the bad argument and names it. Parameters whose
    shapes are expressions of symbolic sizes always take the checked path.
    """
    import torch

    if any(d.kind == "expr" for dims in binder.dims.values() for d in dims):
        return None
    scope = {"empty": torch.empty, "float": float, "int": int, "bool": bool}
    lines = [f"if len(args) != {len(binder.inputs)}: return MISS"]
    names = [f"a{i}" for i in binder.inputs]
    if names:
        lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = args")
    cuda = binder.device_kind == "cuda"
    sizes, seen_vars, first_tensor = [], {}, None
    for i in binder.inputs:
        p, a = binder.params[i], f"a{i}"
        if not isinstance(p, Buffer):
            if p.dtype.is_float:
                lines.append(f"if {a}.__class__ is not float and ({a}.__class__ is not int): return MISS")
                lines.append(f"{a} = float({a})")
            else:
                want = "bool" if p.dtype.is_bool else "int"
                lines.append(f"if {a}.__class__ is not {want}: return MISS")
            sizes.append(f"P{i}: {a}")
            scope[f"P{i}"] = p
            continue
        # A non-tensor fails on `.dtype` or compares unequal: the caller turns AttributeError
        # into MISS. torch dtypes are singletons, so `is not` is exact.
        scope[f"D{i}"] = binder.torch_dtype(i)
        lines.append(f"if {a}.dtype is not D{i}: return MISS")
        static = binder.static_shapes.get(i)
        if static is not None:
            lines.append(f"if {a}.shape != {static!r}: return MISS")
        else:
            lines.append(f"s{i} = {a}.shape")
            lines.append(f"if len(s{i}) != {len(binder.dims[i])}: return MISS")
            for axis, d in enumerate(binder.dims[i]):
                if d.kind == "const":
                    lines.append(f"if s{i}[{axis}] != {d.value}: return MISS")
                elif d.value in seen_vars:
                    lines.append(f"if s{i}[{axis}] != {seen_vars[d.value]}: return MISS")
                else:
                    seen_vars[d.value] = f"s{i}[{axis}]"
                    scope[f"V{len(seen_vars)}"] = d.value
                    sizes.append(f"V{len(seen_vars)}: s{i}[{axis}]")
        if cuda:  # get_device() is -1 on the CPU: one call checks the kind and the device
            if first_tensor is None:
                first_tensor = a
                lines.append(f"dev = {a}.get_device()")
                lines.append(f"if dev < 0 or not {a}.is_contiguous(): return MISS")
            else:
                lines.append(f"if {a}.get_device() != dev or not {a}.is_contiguous(): return MISS")
        else:
            lines.append(f"if {a}.is_cuda: return MISS")
    full = []
    for i in range(len(binder.params)):
        if i in binder.out_idx:
            shape = binder.static_shapes.get(i)
            if shape is None:
                dims = []
                for d in binder.dims[i]:
                    if d.kind == "const":
                        dims.append(str(d.value))
                    elif d.value in seen_vars:
                        dims.append(seen_vars[d.value])
                    else:
                        return None  # an output sized by nothing the inputs bind: checked path errors
                shape = "(" + ", ".join(dims) + ",)"
            scope[f"D{i}"] = binder.torch_dtype(i)
            device = ("dev" if first_tensor else "'cuda'") if cuda else "'cpu'"
            lines.append(f"o{i} = empty({shape}, dtype=D{i}, device={device})")
            full.append(f"o{i}")
        else:
            full.append(f"a{i}")
    return FastBind(lines, scope, full, sizes, ("dev" if first_tensor else None) if cuda else None)


def _compile_fast_bind(binder: ArgumentBinder):
    """Generate `bind(args) -> (full, sizes) | None` from `fast_bind_parts` (False: no fast path)."""
    parts = fast_bind_parts(binder)
    if parts is None:
        return False
    body = ["try:"] + [f"    {line}" for line in parts.lines]
    body += ["except AttributeError:", "    return MISS",
             f"return [{', '.join(parts.full)}], {{{', '.join(parts.sizes)}}}"]
    source = "def bind(args):\n" + "".join(f"    {line}\n" for line in body)
    scope = dict(parts.scope, MISS=None)
    exec(compile(source, f"<tilelang bind {binder.func.name}>", "exec"), scope)
    bind = scope["bind"]
    bind.source = source
    return bind
