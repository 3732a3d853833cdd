"""The dtype names of the language (`T.float16`, ...): IR DTypes that also cast when called.

`T.float32(x)` is tracing sugar, so it lives here rather than on `ir.dtypes.DType` (which
sits below the expressions it would build). `as_dtype` maps these back to the IR's own.
"""
from __future__ import annotations

from ..ir import dtypes
from ..ir import expr as E


class CastingDType(dtypes.DType):
    """A DType that, called, makes a constant of itself or casts an expression (`T.int32(x)`)."""

    __slots__ = ()

    def __call__(self, value=None) -> E.Expr:
        if value is None:
            raise TypeError(f"{self.name}() needs a value; use T.{self.name}(x) to cast x")
        return E.cast(value, self)


def _casting(d: dtypes.DType) -> CastingDType:
    return CastingDType(d.name, d.kind, d.bits)


bool_ = _casting(dtypes.bool_)
int8, int16, int32, int64 = (_casting(d) for d in (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64))
uint8, uint16, uint32, uint64 = (_casting(d) for d in (dtypes.uint8, dtypes.uint16, dtypes.uint32, dtypes.uint64))
float16, bfloat16, float32, float64 = (_casting(d) for d in (dtypes.float16, dtypes.bfloat16, dtypes.float32,
                                                              dtypes.float64))
float8_e4m3, float8_e5m2 = _casting(dtypes.float8_e4m3), _casting(dtypes.float8_e5m2)
handle = _casting(dtypes.handle)
