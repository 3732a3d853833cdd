"""`@tilelang.jit`: kernel factories (returning a @T.prim_func) and eager kernels.

A factory is a function whose body builds and returns a prim_func; calling the decorated
function with the factory's arguments compiles (once per distinct arguments) and returns a
JITKernel. An eager kernel is a body that itself opens `with T.Kernel(...)` and uses
T.const / T.empty / tensor annotations; calling it with tensors compiles once per distinct
constant sizes and runs, returning the T.empty outputs.
"""
from __future__ import annotations

import ast
import functools
import inspect

from ..errors import TileLangError, TileLangTypeError
from ..ir.function import PrimFunc
from .kernel import JITKernel
from ..frontend.source import parse_function
from ..frontend.entry import trace_eager
from ..ir import expr as E


def compile(func, out_idx=None, target="auto", target_host=None, execution_backend="auto", verbose=False,
            pass_configs=None, compile_flags=None) -> JITKernel:
    """Compile a @T.prim_func for `target` ("auto", "cpu", "cuda", "cuda -arch=sm_90a")."""
    return JITKernel(func, out_idx=out_idx, target=target, pass_configs=pass_configs,
                     execution_backend=execution_backend, verbose=verbose, compile_flags=compile_flags)


def _is_eager(fn) -> bool:
    """An eager body opens a kernel itself, or declares tensors / sizes with T.const / T.empty."""

    node = parse_function(fn).node

    def calls(n, names):
        return isinstance(n, ast.Call) and (getattr(n.func, "attr", None) in names or getattr(n.func, "id", None) in names)

    for stmt in node.body:
        if isinstance(stmt, ast.With) and any(calls(i.context_expr, {"Kernel"}) for i in stmt.items):
            return True
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            return True
        if isinstance(stmt, ast.Assign) and calls(stmt.value, {"const", "empty"}):
            return True
    return False


def _freeze(value):
    """A hashable cache key for a factory argument."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    try:
        hash(value)
        return value
    except TypeError:
        return ("repr", repr(value))


class JITImpl:
    """What `@tilelang.jit` returns: call it like the function it decorates."""

    def __init__(self, fn, out_idx=None, target="auto", pass_configs=None, verbose=False, execution_backend="auto",
                 compile_flags=None):
        self.fn = fn
        functools.update_wrapper(self, fn)
        self.out_idx = out_idx
        self.target = target
        self.pass_configs = pass_configs
        self.verbose = verbose
        self.execution_backend = execution_backend
        self.compile_flags = compile_flags
        self.signature = inspect.signature(fn)
        self._eager = None
        self._kernels: dict = {}
        self._eager_plans: dict = {}

    @property
    def is_eager(self) -> bool:
        if self._eager is None:
            self._eager = _is_eager(self.fn)
        return self._eager

    def __call__(self, *args, **kwargs):
        if self.is_eager:
            return self._call_eager(args, kwargs)
        return self.compile(*args, **kwargs)

    # -- factory style ----------------------------------------------------------
    def get_tir(self, *args, **kwargs) -> PrimFunc:
        """The prim_func the factory builds for these arguments."""
        func = self.fn(*args, **kwargs)
        if not isinstance(func, PrimFunc):
            raise TileLangTypeError(f"@tilelang.jit function {self.fn.__qualname__} must return a @T.prim_func, "
                                    f"got {type(func).__name__}")
        return func

    def compile(self, *args, **kwargs) -> JITKernel:
        key = (_freeze(args), _freeze(kwargs))
        kernel = self._kernels.get(key)
        if kernel is None:
            kernel = compile(self.get_tir(*args, **kwargs), out_idx=self.out_idx, target=self.target,
                             pass_configs=self.pass_configs, verbose=self.verbose,
                             execution_backend=self.execution_backend, compile_flags=self.compile_flags)
            self._kernels[key] = kernel
        return kernel

    # -- eager style ----------------------------------------------------------------
    def _call_eager(self, args, kwargs):
        import torch


        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TileLangTypeError(f"{self.fn.__qualname__}(): {e}") from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)

        def is_tensor(v):
            return isinstance(v, torch.Tensor)

        signature_key = tuple(
            (k, ("tensor", str(v.dtype), v.dim(), v.device.type)) if is_tensor(v) else (k, _freeze(v))
            for k, v in arguments.items())
        plan = self._eager_plans.get(signature_key)
        if plan is None:
            trace = trace_eager(self.fn, arguments, {}, is_tensor)
            plan = _SizePlan(trace)
            self._eager_plans[signature_key] = plan
        const_values = plan.solve(arguments)
        key = (signature_key, tuple(sorted(const_values.items())))
        entry = self._kernels.get(key)
        if entry is None:
            trace = trace_eager(self.fn, arguments, const_values, is_tensor)
            kernel = compile(trace.func, target=self.target, pass_configs=self.pass_configs, verbose=self.verbose,
                             execution_backend=self.execution_backend, compile_flags=self.compile_flags)
            entry = self._kernels[key] = (kernel, [name for name, _ in trace.inputs])
        kernel, input_names = entry
        return kernel(*[arguments[n] for n in input_names])


class _SizePlan:
    """Where each T.const size can be read off the call's tensors."""

    def __init__(self, trace):

        self.sources = {}
        for name, buf in trace.inputs:
            for axis, dim in enumerate(buf.shape):
                if isinstance(dim, E.Var) and any(dim is v for v in trace.const_vars):
                    self.sources.setdefault(dim.name, (name, axis))
        missing = [v.name for v in trace.const_vars if v.name not in self.sources]
        if missing:
            raise TileLangError(f"T.const size(s) {', '.join(missing)} do not appear in any tensor annotation, "
                                "so they cannot be read from the arguments", trace.func.span)

    def solve(self, arguments) -> dict:
        return {name: int(arguments[arg].shape[axis]) for name, (arg, axis) in self.sources.items()}


def jit(func=None, *, out_idx=None, target="auto", target_host=None, execution_backend="auto", verbose=False,
        pass_configs=None, debug_root_path=None, compile_flags=None):
    """Decorator (with or without arguments) making a kernel factory or an eager kernel."""

    def decorate(fn):
        return JITImpl(fn, out_idx=out_idx, target=target, pass_configs=pass_configs, verbose=verbose,
                       execution_backend=execution_backend, compile_flags=compile_flags)

    if func is not None:
        return decorate(func)
    return decorate
