"""Numpy views of kernel arguments and dtype conversions with C semantics.

Every value the interpreter computes is a numpy array (or numpy scalar) of the IR dtype's
numpy type, so float16 arithmetic rounds like the device and integers wrap.
"""
from __future__ import annotations

import numpy as np

from ...ir.dtypes import DType

_LOW_PRECISION_FLOATS = ("float16", "bfloat16", "float8_e4m3", "float8_e5m2")
_TORCH_CARRIER = {"bfloat16": "int16", "float8_e4m3": "uint8", "float8_e5m2": "uint8"}


def is_low_precision(dtype: DType) -> bool:
    """Floats numpy cannot do math in natively: computed in float32, rounded back."""
    return dtype.name in _LOW_PRECISION_FLOATS


def tensor_view(t, dtype: DType) -> np.ndarray:
    """A numpy array sharing memory with the torch CPU tensor `t` (so stores land in it)."""
    carrier = _TORCH_CARRIER.get(dtype.name)
    if carrier is None:
        return t.detach().numpy()
    import torch

    return t.detach().view(getattr(torch, carrier)).numpy().view(dtype.numpy)


def cast(value, dtype: DType):
    """Device conversion: floats to ints truncate and saturate (NaN -> 0), to bool is `!= 0`."""
    target = dtype.numpy
    value = np.asarray(value)
    if value.dtype == target:
        return value
    if dtype.is_bool:
        return value != 0
    if dtype.is_int and value.dtype.kind in "fV":  # as cvt.rzi
        info = np.iinfo(target)
        value = np.nan_to_num(value.astype(np.float64), nan=0.0)
        high, low = value >= 2.0 ** (info.bits - (info.min < 0)), value < float(info.min)
        inside = np.where(high | low, 0.0, np.trunc(value)).astype(target)
        return np.where(high, np.array(info.max, target), np.where(low, np.array(info.min, target), inside))
    return value.astype(target)


def scalar(value, dtype: DType):
    """A 0-d array holding a Python constant of the given dtype."""
    return np.asarray(value, dtype=dtype.numpy)
