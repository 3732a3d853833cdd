"""The C++ spelling of each device intrinsic (tilelang/ir/intrinsics.py), for codegen.

A spelling is either a name (`"tl::cp_async_commit"`: template arguments, if the intrinsic
has any, go between angle brackets, the rest between parentheses) or a function
`fn(call, args: list[str]) -> str` for anything else. Lowerings of this backend that define
intrinsics of their own register their spelling here with `spell`.
"""
from __future__ import annotations

from typing import Callable

from ...ir import expr as E
from ...ir import intrinsics as I

_SPELLING: dict[str, object] = {}


def spell(intrinsic: I.Intrinsic, spelling: str | Callable) -> I.Intrinsic:
    """Give `intrinsic` its C++ spelling (once)."""
    if intrinsic.name in _SPELLING and _SPELLING[intrinsic.name] != spelling:
        raise ValueError(f"intrinsic {intrinsic.name!r} already has a CUDA spelling")
    _SPELLING[intrinsic.name] = spelling
    return intrinsic


def spelled(call: E.Call, args: list[str]) -> str | None:
    """The C++ text of `call` (its arguments already printed), None when it has no spelling."""
    intrinsic = I.lookup(call)
    if intrinsic is None:
        return None
    spelling = _SPELLING.get(intrinsic.name)
    if spelling is None:
        return None
    if callable(spelling):
        return spelling(call, args)
    n = intrinsic.template_args
    template = f"<{', '.join(args[:n])}>" if n else ""
    return f"{spelling}{template}({', '.join(args[n:])})"


spell(I.BLOCK_BARRIER, "__syncthreads")
spell(I.NAMED_BARRIER, "tl::named_barrier_sync")
spell(I.WARP_BARRIER, "__syncwarp")
spell(I.ASYNC_COPY, lambda call, args: f"tl::cp_async_{args[0]}({', '.join(args[1:])})")
spell(I.ASYNC_COPY_ZFILL, lambda call, args: f"tl::cp_async_{args[0]}_zfill({', '.join(args[1:])})")
spell(I.ASYNC_COMMIT, "tl::cp_async_commit")
spell(I.ASYNC_WAIT, "tl::cp_async_wait")
