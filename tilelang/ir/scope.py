"""Memory scopes as values: where a buffer lives.

`Scope` is a `str` enum, so a scope compares, hashes, prints and formats exactly like its
user-facing spelling (`Scope.SHARED_DYN == "shared.dyn"`); Buffer normalises the strings
users pass (`T.alloc_shared(..., scope="shared.dyn")`) to these values.
"""
from __future__ import annotations

import enum


class Scope(str, enum.Enum):
    GLOBAL = "global"                # device memory (kernel parameters)
    SHARED = "shared"                # shared memory of the block
    SHARED_DYN = "shared.dyn"        # shared memory in the dynamic arena
    BARRIER = "shared.barrier"       # mbarrier slots (uint64) in shared memory
    LOCAL = "local"                  # a per-thread array
    FRAGMENT = "local.fragment"      # a register tile spread over the threads (a Fragment layout)
    VAR = "local.var"                # a per-thread scalar

    # behave as the plain string everywhere (dict keys, repr in IR text, f-strings)
    __str__ = str.__str__
    __repr__ = str.__repr__
    __format__ = str.__format__
    __hash__ = str.__hash__

    @property
    def is_shared(self) -> bool:
        """Shared memory holding data (not barrier slots)."""
        return self in SHARED_SCOPES

    @property
    def is_shared_memory(self) -> bool:
        """Anything placed in the shared-memory arena, barrier slots included."""
        return self.value.startswith("shared")

    @property
    def is_local(self) -> bool:
        """Per-thread storage (arrays, scalars and fragments)."""
        return self.value.startswith("local")


SHARED_SCOPES = (Scope.SHARED, Scope.SHARED_DYN)


def as_scope(scope) -> Scope:
    """The Scope of a user's string (or a Scope); ValueError names the accepted spellings."""
    try:
        return Scope(scope)
    except ValueError:
        accepted = ", ".join(repr(s.value) for s in Scope)
        raise ValueError(f"unknown memory scope {scope!r}: expected one of {accepted}") from None
