"""Scalar data types: one `DType` value per type, accepted wherever a string is.

`T.float16` and `"float16"` name the same type; a DType compares equal to its name and maps
to numpy (ml_dtypes for bf16/fp8) and torch lazily. The language's dtype names also cast
when called (`T.float32(x)`, language/dtypes.py).
"""
from __future__ import annotations

import functools


class DType:
    """A scalar type: kind ('int', 'uint', 'float', 'bool', 'handle') and width in bits."""

    __slots__ = ("name", "kind", "bits")

    def __init__(self, name: str, kind: str, bits: int):
        self.name = name
        self.kind = kind
        self.bits = bits

    # -- classification -------------------------------------------------------------
    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def is_int(self) -> bool:
        return self.kind in ("int", "uint")

    @property
    def is_signed(self) -> bool:
        return self.kind in ("int", "float")

    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"

    @property
    def bytes(self) -> int:
        return max(self.bits // 8, 1)

    # -- value semantics: a DType equals its name ----------------------------------
    def __eq__(self, other) -> bool:
        if isinstance(other, DType):
            return self.name == other.name
        if isinstance(other, str):
            try:
                return as_dtype(other).name == self.name
            except ValueError:
                return False
        return NotImplemented

    def __ne__(self, other) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return self.name

    __str__ = __repr__

    def __reduce__(self):
        return (as_dtype, (self.name,))

    # -- numeric limits, used for infinities and reductions --------------------------
    def max_value(self):
        import numpy as np

        if self.is_bool:
            return True
        if self.is_int:
            return int(np.iinfo(self.numpy).max)
        return float(np.finfo(self.numpy).max) if not self.is_float else float("inf")

    def min_value(self):
        import numpy as np

        if self.is_bool:
            return False
        if self.is_int:
            return int(np.iinfo(self.numpy).min)
        return float("-inf")

    # -- framework types -------------------------------------------------------------
    @property
    def numpy(self):
        return _numpy_type(self.name)

    @property
    def torch(self):
        return _torch_type(self.name)


_TABLE = [
    ("bool", "bool", 8),
    ("int8", "int", 8), ("int16", "int", 16), ("int32", "int", 32), ("int64", "int", 64),
    ("uint8", "uint", 8), ("uint16", "uint", 16), ("uint32", "uint", 32), ("uint64", "uint", 64),
    ("float16", "float", 16), ("bfloat16", "float", 16), ("float32", "float", 32), ("float64", "float", 64),
    ("float8_e4m3", "float", 8), ("float8_e5m2", "float", 8),
    ("handle", "handle", 64),
]
_BY_NAME = {name: DType(name, kind, bits) for name, kind, bits in _TABLE}
_ALIASES = {
    "float": "float32", "half": "float16", "double": "float64", "int": "int32",
    "bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "fp64": "float64",
    "float8_e4m3fn": "float8_e4m3", "e4m3_float8": "float8_e4m3", "e5m2_float8": "float8_e5m2",
    "uint1": "bool",
}


def as_dtype(value) -> DType:
    """Accept a DType, a name (with common aliases), a torch dtype or a numpy dtype."""
    if isinstance(value, DType):
        return _BY_NAME.get(value.name, value)  # the IR's own value for the language's callable ones
    if isinstance(value, str):
        name = _ALIASES.get(value, value)
        if name in _BY_NAME:
            return _BY_NAME[name]
        known = ", ".join(n for n, _, _ in _TABLE if n != "handle")
        raise ValueError(f"unknown dtype {value!r}; expected one of: {known}")
    text = str(value)
    if text.startswith("torch."):
        return as_dtype(_TORCH_NAMES.get(text[6:], text[6:]))
    try:
        import numpy as np

        return as_dtype(_NUMPY_NAMES.get(np.dtype(value).name, np.dtype(value).name))
    except TypeError:
        pass
    raise ValueError(f"unknown dtype {value!r}")


_TORCH_NAMES = {"float8_e4m3fn": "float8_e4m3", "half": "float16", "float": "float32", "double": "float64",
                "int": "int32", "long": "int64", "short": "int16"}
_NUMPY_NAMES = {"float8_e4m3fn": "float8_e4m3"}


@functools.lru_cache(maxsize=None)
def _numpy_type(name: str):
    import numpy as np

    if name in ("bfloat16", "float8_e4m3", "float8_e5m2"):
        import ml_dtypes

        return np.dtype({"bfloat16": ml_dtypes.bfloat16, "float8_e4m3": ml_dtypes.float8_e4m3fn,
                         "float8_e5m2": ml_dtypes.float8_e5m2}[name])
    if name == "handle":
        return np.dtype("uint64")
    return np.dtype(name)


@functools.lru_cache(maxsize=None)
def _torch_type(name: str):
    import torch

    special = {"float8_e4m3": "float8_e4m3fn", "handle": "int64"}
    return getattr(torch, special.get(name, name))


bool_ = _BY_NAME["bool"]
int8, int16, int32, int64 = (_BY_NAME[n] for n in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (_BY_NAME[n] for n in ("uint8", "uint16", "uint32", "uint64"))
float16, bfloat16, float32, float64 = (_BY_NAME[n] for n in ("float16", "bfloat16", "float32", "float64"))
float8_e4m3, float8_e5m2 = _BY_NAME["float8_e4m3"], _BY_NAME["float8_e5m2"]
handle = _BY_NAME["handle"]


def promote(a: DType, b: DType) -> DType:
    """The common type of a binary operation (TVM's rules: float wins, then wider)."""
    if a == b:
        return a
    if a.is_float != b.is_float:
        return a if a.is_float else b
    if a.is_float:
        if a.bits != b.bits:
            return a if a.bits > b.bits else b
        return float32  # float16 with bfloat16
    if a.is_bool or b.is_bool:
        return b if a.is_bool else a
    if a.bits != b.bits:
        return a if a.bits > b.bits else b
    return a if a.is_signed else b
