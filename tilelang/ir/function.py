"""PrimFunc: a traced kernel program: parameters (global buffers or scalars) and a body."""
from __future__ import annotations

import dataclasses

from ..errors import Span
from .printer import func_to_str
from .stmt import Stmt
from .structural import structural_hash


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class PrimFunc:
    """params: Buffers (scope 'global') and scalar Vars, in call order.

    attrs: 'out_idx' (indices of params the JIT allocates and returns), 'source'
    (file, first line) and whatever passes record.
    """

    name: str
    params: tuple
    body: Stmt
    attrs: dict = dataclasses.field(default_factory=dict)
    span: Span | None = dataclasses.field(default=None, compare=False)

    def __repr__(self) -> str:
        return func_to_str(self)

    def script(self) -> str:
        return repr(self)

    def with_body(self, body: Stmt, **attrs) -> "PrimFunc":
        return dataclasses.replace(self, body=body, attrs={**self.attrs, **attrs})

    def structural_hash(self) -> str:
        return structural_hash(self)
