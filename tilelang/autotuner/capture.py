"""`with set_autotune_inputs(a, b):` tune on these tensors instead of generated ones."""
from __future__ import annotations

import contextlib
import contextvars

_inputs: contextvars.ContextVar = contextvars.ContextVar("tilelang_autotune_inputs", default=None)


@contextlib.contextmanager
def set_autotune_inputs(*tensors):
    """Inputs for tunings started inside the block: `set_autotune_inputs(a, b)` or `([a, b])`."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    token = _inputs.set(list(tensors))
    try:
        yield
    finally:
        _inputs.reset(token)


def get_autotune_inputs() -> list | None:
    """The innermost `set_autotune_inputs` tensors, or None outside one."""
    return _inputs.get()
