"""Index arithmetic generic over "IntLike": Python ints or integer IR expressions.

Layout functions are written once with Python operators; these helpers decide whether a
result is a plain int (tests, tables) or a simplified expression (codegen).
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..arith import simplify
from ..ir import expr as E


def as_int(x):
    """`x` as a Python int when it is a constant, else None."""
    if isinstance(x, (bool, np.integer)):
        return int(x)
    if isinstance(x, int):
        return x
    if isinstance(x, E.IntImm):
        return x.value
    return None


def normalize(x):
    """Constants become ints, expressions are simplified."""
    v = as_int(x)
    if v is not None:
        return v
    if isinstance(x, E.Expr):
        out = simplify(x)
        v = as_int(out)
        return out if v is None else v
    return x


def normalize_args(args):
    """Ints stay ints; if any argument is an expression, all become int32 expressions."""
    ints = [as_int(a) for a in args]
    if all(v is not None for v in ints):
        return tuple(ints), False
    return tuple(E.convert(a) if v is None else v for a, v in zip(args, ints)), True


def prod(shape) -> int:
    return math.prod(shape)


def flatten(index, shape):
    """Row-major flat position of `index` in `shape`."""
    flat = 0
    for i, s in zip(index, shape):
        flat = flat * s + i
    return flat


def unflatten(flat, shape) -> tuple:
    """Inverse of `flatten` (// and %, which the simplifier folds where it can)."""
    out = []
    for s in reversed(shape[1:]):
        out.append(flat % s)
        flat = flat // s
    out.append(flat)
    return tuple(normalize(x) for x in reversed(out))


def in_bounds(index, shape):
    """`0 <= index < shape` on every dim, as a bool or a bool expression."""
    cond = True
    for i, s in zip(index, shape):
        v = as_int(i)
        if v is not None:
            if not 0 <= v < s:
                return False
            continue
        c = E.binary("and", E.binary(">=", i, 0), E.binary("<", i, s))
        cond = c if cond is True else E.binary("and", cond, c)
    return cond


def evaluate_table(fn, shape, n_out: int):
    """Evaluate `fn(*index)` over every index of `shape`, vectorized through numpy when the
    function is plain arithmetic; returns n_out arrays of `shape`."""
    grids = [g.astype(np.int64) for g in np.indices(shape)] if shape else []
    try:
        with np.errstate(all="raise"):
            res = fn(*grids)
        res = res if n_out > 1 else (res,)
        arrays = [np.broadcast_to(np.asarray(r, dtype=np.int64), shape) for r in res]
        if len(arrays) == n_out:
            return [np.array(a) for a in arrays]
    except Exception:  # noqa: BLE001 - any failure means "evaluate point by point"
        pass
    outs = [np.zeros(shape, dtype=np.int64) for _ in range(n_out)]
    for idx in itertools.product(*(range(s) for s in shape)):
        res = fn(*idx)
        res = res if n_out > 1 else (res,)
        for o, r in zip(outs, res):
            o[idx] = as_int(r)
    return outs
