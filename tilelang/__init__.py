"""TileLang in pure Python: tile-level GPU kernels, compiled to CUDA or run on the CPU.

    import tilelang
    import tilelang.language as T

Heavy modules (torch, the backends) load on first use so that `import tilelang` stays fast.
"""
from .version import __version__  # noqa: E402,F401

from .errors import TileLangError  # noqa: E402
# Imported eagerly: `tilelang.jit` must be the decorator, not the subpackage of the same name.
from .jit import compile, jit, JITKernel  # noqa: E402
from .language.math import ceildiv

_LAZY = {
    "PassConfigKey": ("tilelang.jit.pass_config", "PassConfigKey"),
    "autotune": ("tilelang.autotuner", "autotune"),
    "AutoTuner": ("tilelang.autotuner", "AutoTuner"),
    "TensorSupplyType": ("tilelang.profiler", "TensorSupplyType"),
    "language": ("tilelang.language", None),
    "layout": ("tilelang.layout", None),
    "profiler": ("tilelang.profiler", None),
    "tools": ("tilelang.tools", None),
    "testing": ("tilelang.testing", None),
}


def cdiv(a, b):
    """Ceiling division of Python ints (also accepts device values)."""

    return ceildiv(a, b)


def __getattr__(name):
    entry = _LAZY.get(name)
    if entry is None:
        raise AttributeError(f"module 'tilelang' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(entry[0])
    value = module if entry[1] is None else getattr(module, entry[1])
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
