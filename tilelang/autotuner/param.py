"""The autotuner's argument bundles and its result."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..utils.tensor import TensorSupplyType
from ..jit import compile


@dataclasses.dataclass
class CompileArgs:
    """How each candidate is compiled (the arguments of `tilelang.compile`)."""

    out_idx: Any = None
    target: Any = "auto"
    execution_backend: str = "auto"
    target_host: Any = None
    verbose: bool = False
    pass_configs: dict | None = None

    def compile_program(self, program):

        return compile(program, out_idx=self.out_idx, target=self.target, execution_backend=self.execution_backend,
                       verbose=self.verbose, pass_configs=self.pass_configs)

    def as_kwargs(self) -> dict:
        return {"out_idx": self.out_idx, "target": str(self.target) if self.target is not None else "auto",
                "execution_backend": self.execution_backend, "verbose": self.verbose,
                "pass_configs": self.pass_configs}


@dataclasses.dataclass
class ProfileArgs:
    """How each candidate is checked and timed."""

    warmup: float = 25
    rep: float = 100
    timeout: float = 30
    supply_type: TensorSupplyType = TensorSupplyType.Auto
    ref_prog: Callable | None = None
    supply_prog: Callable | None = None
    rtol: float = 1e-2
    atol: float = 1e-2
    max_mismatched_ratio: float = 0.01
    skip_check: bool = False
    manual_check_prog: Callable | None = None
    cache_input_tensors: bool = False


@dataclasses.dataclass
class AutotuneResult:
    """The best candidate: its config, latency (ms), the reference's latency and the compiled kernel.

    `from_cache` is true when the config was read from the on-disk cache instead of tuned;
    `skipped` lists (config, reason) for candidates that failed to compile, run or check.
    """

    latency: float | None = None
    config: dict | None = None
    ref_latency: float | None = None
    libcode: str | None = None
    func: Any = None
    kernel: Any = None
    from_cache: bool = False
    skipped: list = dataclasses.field(default_factory=list)
    latencies: list = dataclasses.field(default_factory=list)
