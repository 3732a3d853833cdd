"""Expressions to numpy arrays: one function per IR node class, in a dispatch table.

Values broadcast against each other: the last axis is the thread lane (size 1 when a value
is the same on every thread), and each enclosing T.Parallel loop adds axes to the left. A
`mask` (None = all active) says which elements are live; it narrows under `if_then_else`
and `and`/`or` so that a guarded out-of-bounds load is not an error, as on the device.
"""
from __future__ import annotations

import functools

import numpy as np

from ...errors import DeviceRuntimeError
from ...ir import expr as E
from ...ir import intrinsics as I
from . import values
from ...ir.scope import SHARED_SCOPES, Scope

LANE_SCOPES = (Scope.LOCAL, Scope.VAR)


def mask_and(mask, cond):
    if mask is None:
        return cond
    return np.logical_and(mask, cond)


def any_active(mask) -> bool:
    return mask is None or bool(np.any(mask))


def _truncdiv(a, b):
    q = np.floor_divide(a, b)
    fix = (np.mod(a, b) != 0) & ((a < 0) != (b < 0))
    return q + fix.astype(q.dtype)


def _round_half_away(x):
    r = np.floor(x)
    d = x - r
    return np.where((d > 0.5) | ((d == 0.5) & (x >= 0)), r + 1, r)


def _erf(x):
    import torch

    return torch.erf(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))).numpy()


# min/max as CUDA's fminf/fmaxf: a NaN operand loses
_BINARY = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "//": np.floor_divide, "%": np.mod,
    "min": np.fmin, "max": np.fmax, "&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor,
    "<<": np.left_shift, ">>": np.right_shift, "==": np.equal, "!=": np.not_equal, "<": np.less,
    "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
}

_MATH = {
    "exp": np.exp, "exp2": np.exp2, "exp10": lambda x: np.power(10.0, x).astype(x.dtype), "log": np.log,
    "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x), "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin,
    "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "erf": lambda x: _erf(x).astype(x.dtype), "floor": np.floor,
    "ceil": np.ceil, "round": _round_half_away, "trunc": np.trunc, "abs": np.abs, "pow": np.power,
    "fmod": np.fmod, "atan2": np.arctan2, "isnan": np.isnan, "isinf": np.isinf,
}
MATH = {I.MATH[name]: fn for name, fn in _MATH.items()}


class Evaluator:
    """Evaluates expressions of one thread block: `env` binds vars, `storage` holds buffers."""

    def __init__(self, env: dict, storage: dict, lanes: np.ndarray):
        self.env = env
        self.storage = storage
        self.lanes = lanes  # position of each lane on the lane axis, shape (lanes,)
        self.block_slot = None  # when several blocks run as lanes: each lane's block, for shared memory

    def element_index(self, buf, idx: list) -> list:
        """Index arrays into buf's storage: per-thread buffers add the lane, and shared
        buffers of blocks that run together add the lane's block."""
        scope = buf.memory_scope
        if scope in LANE_SCOPES:
            return idx + [self.lanes]
        if self.block_slot is not None and scope in SHARED_SCOPES:
            return idx + [self.block_slot]
        return idx

    def ev(self, e, mask=None):
        return _EVAL[type(e)](self, e, mask)

    # -- leaves -------------------------------------------------------------------------
    def _imm(self, e, mask):
        return _constant(e)

    def _var(self, e, mask):
        try:
            return self.env[e]
        except KeyError:
            raise DeviceRuntimeError(f"the variable `{e.name}` has no value here") from None

    def _string(self, e, mask):
        return e.value

    # -- memory -------------------------------------------------------------------------
    def _load(self, e, mask):
        buf = e.buffer
        idx = [self.ev(i, mask) for i in e.indices]
        return self.gather(buf, idx, mask)

    def gather(self, buf, idx, mask):
        """buf[idx] elementwise; out-of-bounds elements read 0 when masked off, else raise."""
        arr = self.storage_of(buf)
        idx = self.element_index(buf, idx)
        if all(np.ndim(i) == 0 for i in idx):
            key = tuple(int(i) for i in idx)
            if all(0 <= k < n for k, n in zip(key, arr.shape)):
                return arr[key]
            if any_active(mask):
                raise DeviceRuntimeError(oob_message("read", buf, key[:buf.ndim], arr.shape[:buf.ndim]))
            return arr.dtype.type(0)
        idx = np.broadcast_arrays(*idx)
        valid = _in_bounds(idx, arr.shape)
        if valid is None:
            return arr[tuple(idx)]
        bad = ~valid if mask is None else (~valid) & mask
        if np.any(bad):
            where = tuple(int(np.broadcast_to(i, bad.shape)[bad][0]) for i in idx[:buf.ndim])
            raise DeviceRuntimeError(oob_message("read", buf, where, arr.shape[:buf.ndim]))
        safe = tuple(np.clip(i, 0, n - 1) for i, n in zip(idx, arr.shape))
        return np.where(valid, arr[safe], arr.dtype.type(0))

    def storage_of(self, buf):
        try:
            return self.storage[buf]
        except KeyError:
            raise DeviceRuntimeError(f"the buffer `{buf.name}` is not allocated in this kernel") from None

    # -- arithmetic ---------------------------------------------------------------------
    def _binary(self, e, mask):
        op = e.op
        if op == "and" or op == "or":
            return self._logic(e, mask)
        a, b = self.ev(e.a, mask), self.ev(e.b, mask)
        if op == "/":
            r = np.true_divide(a, b) if e.dtype.is_float else _truncdiv(a, b)
        else:
            r = _BINARY[op](a, b)
        if r.dtype != e.dtype.numpy:
            r = values.cast(r, e.dtype)
        return r

    def _logic(self, e, mask):
        a = self.ev(e.a, mask)
        is_and = e.op == "and"
        if np.ndim(a) == 0:
            if bool(a) != is_and:
                return np.bool_(not is_and)
            return np.asarray(self.ev(e.b, mask), dtype=bool)
        b = self.ev(e.b, mask_and(mask, a if is_and else ~a))
        return np.logical_and(a, b) if is_and else np.logical_or(a, b)

    def _unary(self, e, mask):
        a = self.ev(e.a, mask)
        if e.op == "-":
            return np.negative(a)
        if e.op == "~":
            return np.invert(a)
        return np.logical_not(a)

    def _select(self, e, mask):
        cond = self.ev(e.cond, mask)
        if np.ndim(cond) == 0:
            return self.ev(e.true_value if cond else e.false_value, mask)
        t = self.ev(e.true_value, mask_and(mask, cond))
        f = self.ev(e.false_value, mask_and(mask, ~cond))
        return np.where(cond, t, f).astype(e.dtype.numpy, copy=False)

    def _cast(self, e, mask):
        return values.cast(self.ev(e.value, mask), e.dtype)

    def _call(self, e, mask):
        intrinsic = I.lookup(e)
        fn = MATH.get(intrinsic)
        if fn is not None:
            args = [self.ev(a, mask) for a in e.args]
            if values.is_low_precision(e.args[0].dtype):
                args = [np.asarray(a, dtype=np.float32) for a in args]
            r = fn(*args)
            return values.cast(r, e.dtype)
        handler = CALLS.get(intrinsic)
        if handler is None:
            raise DeviceRuntimeError(f"the CPU backend cannot evaluate the intrinsic `{e.name}`")
        return handler(self, e, mask)


# -- warp shuffles: a lane reads another lane's value within segments of `width` ---------
def _shuffle(kind):
    def run(self, e, mask):
        value, arg, width = (self.ev(a, mask) for a in e.args)
        lanes = self.lanes
        width = int(width)
        base = lanes - lanes % width
        pos = lanes % width
        if kind == "xor":
            src_pos = pos ^ arg
        elif kind == "down":
            src_pos = np.where(pos + arg < width, pos + arg, pos)
        elif kind == "up":
            src_pos = np.where(pos - arg >= 0, pos - arg, pos)
        else:
            src_pos = np.broadcast_to(np.asarray(arg) % width, lanes.shape)
        src = (base + src_pos) % lanes.shape[0]
        full = np.broadcast_to(value, np.shape(value)[:-1] + lanes.shape) if np.ndim(value) else \
            np.broadcast_to(value, lanes.shape)
        return full[..., src]

    return run


CALLS = {I.SHFL_XOR: _shuffle("xor"), I.SHFL_DOWN: _shuffle("down"), I.SHFL_UP: _shuffle("up"),
         I.SHFL_SYNC: _shuffle("sync")}


@functools.lru_cache(maxsize=1 << 16)
def _constant(e):
    """The 0-d array of an IntImm/FloatImm (nodes are immutable, so it is made once)."""
    value = values.scalar(e.value, e.dtype)
    value.flags.writeable = False
    return value


def _in_bounds(idx, shape):
    """A boolean array (None when every index is in bounds)."""
    valid = None
    for i, n in zip(idx, shape):
        if i.size and (i.min() < 0 or i.max() >= n):
            ok = (i >= 0) & (i < n)
            valid = ok if valid is None else valid & ok
    return valid


def oob_message(what, buf, index, shape) -> str:
    return (f"out-of-bounds {what} of {buf.name}: index {tuple(index)} is outside its shape {tuple(shape)}")


_EVAL = {
    E.IntImm: Evaluator._imm, E.FloatImm: Evaluator._imm, E.StringImm: Evaluator._string, E.Var: Evaluator._var,
    E.BufferLoad: Evaluator._load, E.Binary: Evaluator._binary, E.Unary: Evaluator._unary,
    E.Select: Evaluator._select, E.Cast: Evaluator._cast, E.Call: Evaluator._call,
}
