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


def _by_address(name: str) -> Callable:
    """`name(&bar, rest...)`: mbarrier intrinsics take the barrier element, the header its address."""
    return lambda call, args: f"{name}((&{args[0]}){''.join(', ' + a for a in args[1:])})"


def _address_of(call: E.Call, args: list[str]) -> str:
    return f"(&{args[0]})"


def _extern(call: E.Call, args: list[str]) -> str:
    return f"{call.args[0].value}({', '.join(args[1:])})"


spell(I.BLOCK_BARRIER, "__syncthreads")
spell(I.NAMED_BARRIER, "tl::named_barrier_sync")
spell(I.WARP_BARRIER, "__syncwarp")
spell(I.MBARRIER_INIT, _by_address("tl::mbar_init"))
spell(I.MBARRIER_ARRIVE, _by_address("tl::mbar_arrive"))
spell(I.MBARRIER_WAIT_PARITY, _by_address("tl::mbar_wait"))
spell(I.MBARRIER_EXPECT_TX, _by_address("tl::mbar_expect_tx"))
spell(I.MBARRIER_ARRIVE_EXPECT_TX, _by_address("tl::mbar_arrive_expect_tx"))
spell(I.FENCE_PROXY_ASYNC, "tl::fence_proxy_async")
spell(I.FENCE_MBARRIER_INIT, "tl::fence_mbarrier_init")
spell(I.SHFL_XOR, "tl::shfl_xor")
spell(I.SHFL_DOWN, "tl::shfl_down")
spell(I.SHFL_UP, "tl::shfl_up")
spell(I.SHFL_SYNC, "tl::shfl_idx")
spell(I.WARPGROUP_ARRIVE, "tl::wgmma_fence")
spell(I.WARPGROUP_COMMIT, "tl::wgmma_commit_group")
spell(I.WARPGROUP_WAIT, "tl::wgmma_wait_group")
spell(I.SET_MAX_NREG_INC, "tl::setmaxnreg_inc")
spell(I.SET_MAX_NREG_DEC, "tl::setmaxnreg_dec")
spell(I.ASYNC_COPY, lambda call, args: f"tl::cp_async_{args[0]}({', '.join(args[1:])})")
spell(I.ASYNC_COPY_ZFILL, lambda call, args: f"tl::cp_async_{args[0]}_zfill({', '.join(args[1:])})")
spell(I.ASYNC_COMMIT, "tl::cp_async_commit")
spell(I.ASYNC_WAIT, "tl::cp_async_wait")
spell(I.TMA_LOAD, lambda call, args: f"tl::tma_load_{len(args) - 3}d({', '.join(args)})")
spell(I.TMA_STORE, lambda call, args: f"tl::tma_store_{len(args) - 2}d({', '.join(args)})")
spell(I.TMA_STORE_WAIT, lambda call, args: "tl::tma_store_wait<0>()")
for _op, _intrinsic in I.ATOMICS.items():
    spell(_intrinsic, f"tl::atomic_{_op}")
spell(I.DEVICE_ASSERT, "tl::device_assert")
spell(I.PRINTF, "printf")
spell(I.ADDRESS_OF, _address_of)
spell(I.REINTERPRET, lambda call, args: f"(*reinterpret_cast<{call.args[0].value}*>({args[1]}))")
spell(I.EXTERN, _extern)
for _axis, _block, _thread in zip("xyz", I.BLOCK_INDEX, I.THREAD_INDEX):
    spell(_block, lambda call, args, axis=_axis: f"(int)blockIdx.{axis}")
    spell(_thread, lambda call, args, axis=_axis: f"(int)threadIdx.{axis}")


# math intrinsic -> float32 C function (double drops the trailing f; half/bf16 compute in float)
_MATH_FLOAT = {"exp": "expf", "exp2": "exp2f", "exp10": "exp10f", "log": "logf", "log2": "log2f", "log10": "log10f",
               "log1p": "log1pf", "expm1": "expm1f", "sqrt": "sqrtf", "rsqrt": "rsqrtf", "sin": "sinf", "cos": "cosf",
               "tan": "tanf", "asin": "asinf", "acos": "acosf", "atan": "atanf", "sinh": "sinhf", "cosh": "coshf",
               "tanh": "tanhf", "erf": "erff", "floor": "floorf", "ceil": "ceilf", "round": "roundf", "trunc": "truncf",
               "abs": "fabsf", "pow": "powf", "fmod": "fmodf", "atan2": "atan2f"}

# tl.enable_fast_math: the approximate forms of tl.cuh
_FAST = {"exp": "tl::fast_exp", "exp2": "tl::fast_exp2", "log": "tl::fast_log", "log2": "tl::fast_log2",
         "rsqrt": "tl::fast_rsqrt", "tanh": "tl::fast_tanh", "sin": "tl::fast_sin", "cos": "tl::fast_cos"}

MATH = {I.MATH[name]: text for name, text in _MATH_FLOAT.items()}
FAST_MATH = {I.MATH[name]: text for name, text in _FAST.items()}
