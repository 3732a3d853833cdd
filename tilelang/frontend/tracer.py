"""Tracing a kernel's Python source into IR, one AST node at a time (DESIGN.md rules 1-11).

Expressions are evaluated: Python values stay Python values, device values are IR
expressions. Statements decide on Python values while tracing (`if flag:`), and become IR on
device values (`if tx < 128:` is a runtime branch). T.* calls append to the Builder.
Every statement is traced with its span current, and any error raised under it is reported
at the user's line.
"""
from __future__ import annotations

import ast
import builtins
import dataclasses
import inspect
import operator

from ..errors import TileLangError, TileLangSyntaxError, TileLangTypeError
from ..ir import expr as E
from ..ir import intrinsics as I
from ..ir import stmt as S
from ..ir.buffer import Buffer
from ..ir.builder import Builder, maybe_current
from .source import ParsedFunction
from ..ir.dtypes import as_dtype
from .specs import LoopSpec, TensorAnnotation, range_spec
from ..ir.tileop import DeviceAssert
from ..ir.scope import Scope

_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.BitAnd: operator.and_,
    ast.MatMult: operator.matmul,
}
_CMPOPS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_MISSING = object()


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def is_device(value) -> bool:
    """True for values only known on the device (decided at run time, not while tracing)."""
    if isinstance(value, E.Expr):
        return not isinstance(value, (E.IntImm, E.FloatImm, E.StringImm))
    return isinstance(value, Buffer) and value.memory_scope == Scope.VAR


class PendingTensor:
    """Eager style: a tensor argument not yet declared with `A: T.Tensor(...)`."""

    def __init__(self, name, tensor):
        self.name, self.tensor = name, tensor


class Tracer:
    """Traces one function body. `scopes` are searched in order: locals first, builtins last."""

    def __init__(self, parsed: ParsedFunction, builder: Builder, locals_: dict, outer: list):
        self.parsed = parsed
        self.builder = builder
        self.locals = locals_
        self.scopes = [locals_] + outer

    # ---------------------------------------------------------------- entry points
    def run_body(self):
        """Trace the function body; returns what its `return` statement gave (or None)."""
        try:
            self.visit_body(self.parsed.node.body)
        except _Return as r:
            return r.value
        except (_Break, _Continue):
            raise TileLangSyntaxError("`break`/`continue` outside a loop", self.parsed.span(self.parsed.node))
        return None

    def lookup(self, name: str, node=None):
        for scope in self.scopes:
            value = scope.get(name, _MISSING)
            if value is not _MISSING:
                if isinstance(value, PendingTensor):
                    value = self._declare_pending(value)
                return value
        raise TileLangError(f"name `{name}` is not defined", self.parsed.span(node) if node is not None else None)

    def _declare_pending(self, pending: PendingTensor) -> Buffer:

        buf = Buffer(pending.name, tuple(E.const(int(s)) for s in pending.tensor.shape),
                     as_dtype(pending.tensor.dtype), Scope.GLOBAL, span=self.builder.span)
        self.builder.params[pending.name] = buf
        for scope in self.scopes:
            if scope.get(pending.name) is pending:
                scope[pending.name] = buf
        return buf

    # ---------------------------------------------------------------- statements
    def visit_body(self, stmts):
        for s in stmts:
            self.visit_stmt(s)

    def visit_stmt(self, node):
        span = self.parsed.span(node)
        prev, self.builder.span = self.builder.span, span
        try:
            method = getattr(self, "stmt_" + type(node).__name__, None)
            if method is None:
                raise TileLangSyntaxError(f"`{type(node).__name__}` statements are not supported in a kernel")
            method(node)
        except (_Return, _Break, _Continue):
            raise
        except TileLangError as e:
            raise e.with_span(span)
        except RecursionError:
            raise
        except Exception as e:
            raise TileLangError(f"{type(e).__name__}: {e}", span) from e
        finally:
            self.builder.span = prev

    def stmt_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # docstring
        value = self.eval(node.value)
        if isinstance(value, E.Call) and not I.is_math(value):
            self.builder.emit(S.Evaluate(value))

    def stmt_Pass(self, node):
        pass

    def stmt_Global(self, node):
        pass

    stmt_Nonlocal = stmt_Global

    def stmt_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.builder.name_hint = node.targets[0].id
        try:
            value = self.eval(node.value)
        finally:
            self.builder.name_hint = None
        for target in node.targets:
            self.assign(target, value)

    def stmt_AnnAssign(self, node):
        if node.value is None:
            return self._declare(node)
        if isinstance(node.target, ast.Name):
            self.builder.name_hint = node.target.id
        try:
            value = self.eval(node.value)
        finally:
            self.builder.name_hint = None
        self.assign(node.target, value)

    def _declare(self, node):
        """`A: T.Tensor(shape, dtype)` in an eager kernel body declares a tensor parameter."""

        if not isinstance(node.target, ast.Name):
            raise TileLangSyntaxError("only a plain name can be declared with an annotation")
        ann = self.eval(node.annotation)
        if not isinstance(ann, TensorAnnotation):
            raise TileLangTypeError(f"`{node.target.id}: ...` declares a tensor; expected T.Tensor(shape, dtype), got {ann!r}")
        name = node.target.id
        buf = ann.make_buffer(name, self.builder.span)
        self.builder.params[name] = buf
        self.locals[name] = buf

    def stmt_AugAssign(self, node):
        op = _BINOPS[type(node.op)]
        value = self.eval(node.value)
        target = node.target
        if isinstance(target, ast.Name):
            current = self.lookup(target.id, target)
            self.bind(target.id, op(current, value))
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value)
            key = self.eval_slice(target.slice)
            obj[key] = op(obj[key], value)
        elif isinstance(target, ast.Attribute):
            obj = self.eval(target.value)
            setattr(obj, target.attr, op(getattr(obj, target.attr), value))
        else:
            raise TileLangSyntaxError("unsupported augmented assignment target")

    def assign(self, target, value):
        if isinstance(target, ast.Name):
            self.bind(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if is_device(value) or isinstance(value, Buffer):
                raise TileLangTypeError(f"cannot unpack the device value `{value!r}` into {len(target.elts)} names")
            values = list(value)
            starred = [i for i, t in enumerate(target.elts) if isinstance(t, ast.Starred)]
            if starred:
                i = starred[0]
                after = len(target.elts) - i - 1
                values = values[:i] + [values[i:len(values) - after]] + values[len(values) - after:]
            if len(values) != len(target.elts):
                raise TileLangTypeError(f"cannot unpack {len(values)} values into {len(target.elts)} names")
            for t, v in zip(target.elts, values):
                self.assign(t.value if isinstance(t, ast.Starred) else t, v)
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value)
            obj[self.eval_slice(target.slice)] = value
        elif isinstance(target, ast.Attribute):
            setattr(self.eval(target.value), target.attr, value)
        else:
            raise TileLangSyntaxError(f"cannot assign to `{type(target).__name__}`")

    def bind(self, name, value):
        """Rebind a name, except that a name holding T.alloc_var stores into it (rule 4)."""
        current = self.locals.get(name, _MISSING)
        if isinstance(current, Buffer) and current.memory_scope == Scope.VAR and not isinstance(value, Buffer):
            self.builder.store(current, (E.const(0),), value)
        else:
            self.locals[name] = value

    def stmt_Delete(self, node):
        for t in node.targets:
            if isinstance(t, ast.Name):
                self.locals.pop(t.id, None)

    def stmt_If(self, node):
        cond = self.eval(node.test)
        if not is_device(cond):
            self.visit_body(node.body if cond else node.orelse)
            return
        cond = E.convert(cond)
        then_body = self.traced_block(node.body)
        else_body = self.traced_block(node.orelse) if node.orelse else None
        self.builder.emit(S.IfThenElse(E.binary("!=", cond, 0) if not cond.dtype.is_bool else cond, then_body, else_body))

    def traced_block(self, stmts) -> S.Stmt:
        self.builder.push()
        try:
            self.visit_body(stmts)
        except (_Break, _Continue):
            self.builder.pop()
            raise TileLangSyntaxError("`break`/`continue` cannot leave a device-side branch or loop")
        return self.builder.pop()

    def stmt_For(self, node):

        spec = self._range_as_serial(node.iter)
        if spec is None:
            spec = self.eval(node.iter)
        if isinstance(spec, LoopSpec):
            return self._device_loop(node, spec)
        if is_device(spec) or isinstance(spec, Buffer):
            raise TileLangTypeError(f"cannot iterate over the device value `{spec!r}`; use T.serial / T.Parallel")
        for value in spec:
            self.assign(node.target, value)
            try:
                self.visit_body(node.body)
            except _Break:
                break
            except _Continue:
                continue
        else:
            self.visit_body(node.orelse)

    def _range_as_serial(self, iter_node):
        """`range(...)` inside a kernel is T.serial (rule 5)."""
        if not (isinstance(iter_node, ast.Call) and self.builder.kernels):
            return None
        func = self.eval(iter_node.func)
        if func is not builtins.range:
            return None

        args = [self.eval(a) for a in iter_node.args]
        return LoopSpec("serial", [range_spec("serial", *args)])

    def _device_loop(self, node, spec):
        names = self._target_names(node.target)
        if node.orelse:
            raise TileLangSyntaxError("`for ... else` is not supported on device loops")
        loop_vars = spec.make_vars(names)
        saved = {n: self.locals.get(n, _MISSING) for n in names}
        for n, v in zip(names, loop_vars):
            self.locals[n] = v
        try:
            body = self.traced_block(node.body)
        finally:
            for n, v in saved.items():
                if v is _MISSING:
                    self.locals.pop(n, None)
                else:
                    self.locals[n] = v
        self.builder.emit(spec.build(loop_vars, body, span=self.builder.span))

    def _target_names(self, target) -> list:
        if isinstance(target, ast.Name):
            return [target.id]
        if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(t, ast.Name) for t in target.elts):
            return [t.id for t in target.elts]
        raise TileLangSyntaxError("a device loop's target must be a name or a tuple of names")

    def stmt_While(self, node):
        cond = self.eval(node.test)
        if is_device(cond):
            if node.orelse:
                raise TileLangSyntaxError("`while ... else` is not supported on device loops")
            body = self.traced_block(node.body)
            self.builder.emit(S.While(E.convert(cond), body))
            return
        while cond:
            try:
                self.visit_body(node.body)
            except _Break:
                break
            except _Continue:
                pass
            cond = self.eval(node.test)
            if is_device(cond):
                raise TileLangTypeError("a `while` condition must stay a Python value or be a device value throughout")
        else:
            self.visit_body(node.orelse)

    def stmt_Break(self, node):
        raise _Break()

    def stmt_Continue(self, node):
        raise _Continue()

    def stmt_Return(self, node):
        raise _Return(self.eval(node.value) if node.value is not None else None)

    def stmt_With(self, node):
        self._with(node.items, node.body)

    def _with(self, items, body):
        if not items:
            return self.visit_body(body)
        item = items[0]
        ctx = self.eval(item.context_expr)
        target = item.optional_vars
        names = tuple(self._target_names(target)) if target is not None and not isinstance(target, ast.Attribute) \
            and not isinstance(target, ast.Subscript) else ()
        self.builder.with_names = names
        try:
            value = ctx.__enter__()
        finally:
            self.builder.with_names = ()
        try:
            if target is not None:
                self.assign(target, value)
            self._with(items[1:], body)
        except BaseException as e:
            if not ctx.__exit__(type(e), e, e.__traceback__):
                raise
        else:
            ctx.__exit__(None, None, None)

    def stmt_Assert(self, node):
        cond = self.eval(node.test)
        msg = self.eval(node.msg) if node.msg is not None else ""
        if is_device(cond):

            self.builder.emit(DeviceAssert(E.convert(cond), str(msg)))
        elif not cond:
            raise TileLangError(f"assertion failed{': ' + str(msg) if msg else ''}")

    def stmt_FunctionDef(self, node):

        defaults = [self.eval(d) for d in node.args.defaults]
        self.locals[node.name] = LocalFunction(node, self.parsed, self.scopes, defaults)

    def stmt_Import(self, node):
        namespace = {}
        exec(compile(ast.Module([node], []), self.parsed.file, "exec"), namespace)
        namespace.pop("__builtins__", None)
        self.locals.update(namespace)

    stmt_ImportFrom = stmt_Import

    # ---------------------------------------------------------------- expressions
    def eval(self, node):
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            return self.py_eval(node)
        return method(node)

    def py_eval(self, node):
        """Anything else (comprehensions, lambdas, f-strings) is plain Python."""
        namespace = {}
        for scope in reversed(self.scopes):
            namespace.update(scope)
        code = compile(ast.fix_missing_locations(ast.Expression(node)), self.parsed.file, "eval")
        return eval(code, namespace)

    def expr_Constant(self, node):
        return node.value

    def expr_Name(self, node):
        return self.lookup(node.id, node)

    def expr_Attribute(self, node):
        return getattr(self.eval(node.value), node.attr)

    def expr_Subscript(self, node):
        return self.eval(node.value)[self.eval_slice(node.slice)]

    def eval_slice(self, node):
        if isinstance(node, ast.Slice):
            return slice(*(self.eval(x) if x is not None else None for x in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Tuple):
            return tuple(self.eval_slice(x) for x in node.elts)
        return self.eval(node)

    def expr_Call(self, node):
        func = self.eval(node.func)
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                args.extend(self.eval(a.value))
            else:
                args.append(self.eval(a))
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                kwargs.update(self.eval(kw.value))
            else:
                kwargs[kw.arg] = self.eval(kw.value)
        span = self.parsed.span(node)
        prev, self.builder.span = self.builder.span, span
        try:
            return func(*args, **kwargs)
        except TileLangError as e:
            raise e.with_span(span)
        except (_Return, _Break, _Continue, RecursionError):
            raise
        except Exception as e:
            raise TileLangError(f"{type(e).__name__}: {e}", span) from e
        finally:
            self.builder.span = prev

    def expr_BinOp(self, node):
        op = _BINOPS[type(node.op)]
        return op(self.eval(node.left), self.eval(node.right))

    def expr_UnaryOp(self, node):
        value = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return E.unary("not", value) if is_device(value) else not value
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        return ~value

    def expr_BoolOp(self, node):
        is_and = isinstance(node.op, ast.And)
        result = self.eval(node.values[0])
        for value_node in node.values[1:]:
            if not is_device(result):
                if (not result) if is_and else result:
                    return result  # Python short-circuit
                result = self.eval(value_node)
                continue
            right = self.eval(value_node)
            result = E.binary("and" if is_and else "or", result, right)
        return result

    def expr_Compare(self, node):
        left = self.eval(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node)
            value = _CMPOPS[type(op)](left, right)
            if result is None:
                result = value
            elif is_device(result) or is_device(value):
                result = E.binary("and", result, value)
            else:
                result = result and value
            if not is_device(result) and not result:
                return result
            left = right
        return result

    def expr_IfExp(self, node):
        cond = self.eval(node.test)
        if is_device(cond):
            return E.select(cond, self.eval(node.body), self.eval(node.orelse))
        return self.eval(node.body) if cond else self.eval(node.orelse)

    def expr_Tuple(self, node):
        return tuple(self._elements(node.elts))

    def expr_List(self, node):
        return list(self._elements(node.elts))

    def _elements(self, elts):
        out = []
        for e in elts:
            if isinstance(e, ast.Starred):
                out.extend(self.eval(e.value))
            else:
                out.append(self.eval(e))
        return out

    def expr_Dict(self, node):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                out.update(self.eval(v))
            else:
                out[self.eval(k)] = self.eval(v)
        return out

    def expr_NamedExpr(self, node):
        value = self.eval(node.value)
        self.assign(node.target, value)
        return value

    def expr_Slice(self, node):
        return self.eval_slice(node)


def trace_call(parsed: ParsedFunction, outer: list, signature: inspect.Signature, args, kwargs, name: str):
    builder = maybe_current()
    if builder is None:
        raise TileLangError(f"`{name}` traces device code; call it inside a kernel")
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        raise TileLangTypeError(f"{name}(): {e}") from None
    bound.apply_defaults()
    tracer = Tracer(parsed, builder, dict(bound.arguments), outer)
    return tracer.run_body()


class LocalFunction:
    """A `def` inside a kernel body: traced inline when called, seeing the enclosing names."""

    def __init__(self, node, parsed: ParsedFunction, scopes: list, defaults: list):
        self.parsed = dataclasses.replace(parsed, node=node)
        self.scopes = scopes
        params = [inspect.Parameter(a.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD) for a in node.args.args]
        for i, d in enumerate(defaults):
            k = len(params) - len(defaults) + i
            params[k] = params[k].replace(default=d)
        params += [inspect.Parameter(a.arg, inspect.Parameter.KEYWORD_ONLY,
                                     default=inspect.Parameter.empty) for a in node.args.kwonlyargs]
        self.signature = inspect.Signature(params)
        self.name = node.name

    def __call__(self, *args, **kwargs):
        return trace_call(self.parsed, self.scopes, self.signature, args, kwargs, self.name)
