"""Entry points of the frontend: @T.prim_func, @T.macro, nested defs, and eager bodies."""
from __future__ import annotations

import builtins
import dataclasses
import functools
import inspect

from ..errors import TileLangError, TileLangSyntaxError, TileLangTypeError
from ..ir import expr as E
from ..ir.builder import Builder, maybe_current
from ..ir.dtypes import DType, as_dtype
from ..ir.function import PrimFunc
from .source import ParsedFunction, closure_vars, parse_function
from .tracer import PendingTensor, Tracer, trace_call
from .specs import TensorAnnotation
from ..ir.buffer import Buffer
from ..ir.scope import Scope


def _outer_scopes(fn) -> list:
    return [closure_vars(fn), fn.__globals__, builtins.__dict__]


def trace_prim_func(fn) -> PrimFunc:
    """Trace a function whose parameters are annotated T.Tensor(...) / scalar dtypes."""
    parsed = parse_function(fn)
    builder = Builder()
    with builder:
        tracer = Tracer(parsed, builder, {}, _outer_scopes(fn))
        params = []
        for arg in _arguments(parsed):
            span = parsed.span(arg)
            builder.span = span
            if arg.annotation is None:
                raise TileLangSyntaxError(
                    f"parameter `{arg.arg}` needs an annotation: T.Tensor(shape, dtype) or a scalar dtype", span)
            # Annotations were evaluated where the function was defined (their names need not
            # be free variables of the body); string annotations are evaluated here.
            ann = fn.__annotations__.get(arg.arg)
            try:
                if ann is None or isinstance(ann, str):
                    ann = tracer.eval(arg.annotation)
            except TileLangError as e:
                raise e.with_span(span)
            except Exception as e:
                raise TileLangError(f"{type(e).__name__}: {e}", span) from e
            param = _param_from_annotation(arg.arg, ann, span)
            tracer.locals[arg.arg] = param
            params.append(param)
        builder.span = None
        tracer.run_body()
        body = builder.pop()
    file_line = (parsed.file, parsed.node.lineno + parsed.line_offset)
    return PrimFunc(fn.__name__, tuple(params), body, {"source": file_line}, parsed.span(parsed.node))


def _arguments(parsed: ParsedFunction):
    a = parsed.node.args
    if a.vararg or a.kwarg:
        raise TileLangSyntaxError("kernel parameters cannot be *args or **kwargs", parsed.span(parsed.node))
    return list(a.posonlyargs) + list(a.args) + list(a.kwonlyargs)


def _param_from_annotation(name, ann, span):

    if isinstance(ann, TensorAnnotation):
        return ann.make_buffer(name, span)
    if isinstance(ann, (DType, str)):
        try:
            return E.Var(as_dtype(ann), name)
        except ValueError:
            pass
    raise TileLangTypeError(f"parameter `{name}`: expected T.Tensor(shape, dtype) or a scalar dtype, got {ann!r}", span)


def prim_func(fn=None, *, private=False, check_well_formed=True):
    """Decorator: trace fn now and return its PrimFunc."""
    if fn is None:
        return lambda f: prim_func(f, private=private)
    return trace_prim_func(fn)


class Macro:
    """@T.macro: a helper whose body is traced inline at each call inside a kernel."""

    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)
        self._signature = inspect.signature(fn)

    def __call__(self, *args, **kwargs):
        return trace_call(parse_function(self.fn), _outer_scopes(self.fn), self._signature, args, kwargs,
                           self.fn.__qualname__)


def macro(fn=None, *, hygienic=True):
    """Mark a helper whose body is inlined, with its arguments substituted, wherever a kernel calls it."""
    if fn is None:
        return lambda f: Macro(f)
    return Macro(fn)


@dataclasses.dataclass
class EagerTrace:
    """The result of tracing an eager @tilelang.jit body for one call."""

    func: PrimFunc
    inputs: list   # (argument name, Buffer) for each tensor argument, in signature order
    outputs: list  # Buffers returned by the body
    const_vars: list


def trace_eager(fn, bound_arguments: dict, const_values: dict, is_tensor) -> EagerTrace:
    """Trace an eager kernel body with its call's arguments bound (tensors become parameters)."""
    parsed = parse_function(fn)
    builder = Builder()
    builder.const_values = dict(const_values)
    locals_ = {k: (PendingTensor(k, v) if is_tensor(v) else v) for k, v in bound_arguments.items()}
    with builder:
        tracer = Tracer(parsed, builder, locals_, _outer_scopes(fn))
        ret = tracer.run_body()
        body = builder.pop()
    returned = list(ret) if isinstance(ret, (tuple, list)) else ([] if ret is None else [ret])

    inputs = [(name, builder.params[name]) for name in bound_arguments if name in builder.params]
    declared = {id(b) for _, b in inputs}
    outputs = []
    for r in returned:
        if not isinstance(r, Buffer) or r.memory_scope != Scope.GLOBAL:
            raise TileLangTypeError(f"an eager kernel returns tensors made by T.empty, got {r!r}", parsed.span(parsed.node))
        if id(r) not in declared:
            outputs.append(r)
    extra = [b for b in builder.outputs if all(b is not o for o in outputs)]
    params = tuple([b for _, b in inputs] + outputs + extra)
    out_idx = list(range(len(inputs), len(inputs) + len(outputs)))
    attrs = {"source": (parsed.file, parsed.node.lineno + parsed.line_offset), "out_idx": out_idx}
    func = PrimFunc(fn.__name__, params, body, attrs, parsed.span(parsed.node))
    return EagerTrace(func, inputs, outputs, list(builder.const_vars))
