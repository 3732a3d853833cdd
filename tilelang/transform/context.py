"""PassContext: what every pass of a pipeline shares (the target, the pass configs, layouts).

A pass is `fn(func: PrimFunc, ctx: PassContext) -> PrimFunc`. Target-neutral passes read only
these fields; a backend's context (backend/cuda/lower/context.py) adds what its lowering needs.
"""
from __future__ import annotations

import dataclasses

from ..target import TargetDescription


@dataclasses.dataclass
class PassContext:
    target: TargetDescription = TargetDescription("generic")
    pass_configs: dict = dataclasses.field(default_factory=dict)
    layout_map: object = None      # LayoutMap, set by layout_inference

    def config(self, key: str, default=None):
        """The value of pass config `key` (a PassConfigKey string), or `default`."""
        return self.pass_configs.get(key, default)
