"""Autotuning kernel factories: `@tilelang.autotune(configs=...)` and `AutoTuner`."""
from .param import AutotuneResult, CompileArgs, ProfileArgs  # noqa: F401
from .cache import autotune_cache_dir  # noqa: F401
from .capture import get_autotune_inputs, set_autotune_inputs  # noqa: F401
from .tuner import AutoTuneImpl, AutoTuner, autotune, expand_configs  # noqa: F401

__all__ = ["AutoTuner", "AutoTuneImpl", "AutotuneResult", "CompileArgs", "ProfileArgs", "autotune",
           "set_autotune_inputs", "get_autotune_inputs"]
