"""Test inputs made from a kernel's parameters, and output comparison that says where it differs.

`TensorSupplyType` picks how inputs are filled; `make_tensor` builds one for a Buffer
parameter; `compare_tensors` / `torch_assert_close` check outputs with a tolerance and a
budget of mismatched elements, and report the worst element and how many differ.
"""
from __future__ import annotations

import enum


class TensorSupplyType(enum.Enum):
    """How the profiler fills a kernel's inputs."""

    Integer = 1   # small integers in [-2, 2] (unsigned: [0, 2]); exact in every dtype
    Uniform = 2   # uniform in [-1, 1)
    Normal = 3    # normal, mean 0, std 1
    Randn = 4     # torch.randn
    Zero = 5
    One = 6
    Auto = 7      # floats: uniform in [-1, 1); integers and fp8: as Integer


def _fill_shape(shape) -> list:
    return [int(s) for s in shape]


def random_tensor(shape, dtype, device, supply_type: TensorSupplyType = TensorSupplyType.Auto):
    """A tensor of torch `dtype` on `device`, filled according to `supply_type`."""
    import torch

    supply_type = TensorSupplyType(supply_type) if not isinstance(supply_type, TensorSupplyType) else supply_type
    shape = _fill_shape(shape)
    is_float = dtype.is_floating_point
    is_bool = dtype == torch.bool
    is_unsigned = dtype in (torch.uint8, getattr(torch, "uint16", None), getattr(torch, "uint32", None),
                            getattr(torch, "uint64", None))
    is_fp8 = is_float and dtype.itemsize == 1

    def integers():
        if is_bool:
            return torch.randint(0, 2, shape, device=device).to(dtype)
        low = 0 if is_unsigned else -2
        return torch.randint(low, 3, shape, device=device, dtype=torch.int64).to(dtype)

    if supply_type == TensorSupplyType.Zero:
        return torch.zeros(shape, dtype=dtype, device=device)
    if supply_type == TensorSupplyType.One:
        return torch.ones(shape, dtype=dtype, device=device)
    if supply_type == TensorSupplyType.Integer or not is_float or (supply_type == TensorSupplyType.Auto and is_fp8):
        return integers()
    if supply_type in (TensorSupplyType.Uniform, TensorSupplyType.Auto):
        return torch.empty(shape, dtype=torch.float32, device=device).uniform_(-1.0, 1.0).to(dtype)
    if supply_type == TensorSupplyType.Normal:
        return torch.empty(shape, dtype=torch.float32, device=device).normal_(0.0, 1.0).to(dtype)
    if supply_type == TensorSupplyType.Randn:
        return torch.randn(shape, dtype=torch.float32, device=device).to(dtype)
    raise ValueError(f"unknown TensorSupplyType {supply_type!r}")


def get_tensor_supply(supply_type: TensorSupplyType = TensorSupplyType.Integer, device=None):
    """A function `param -> tensor` for Buffer parameters with static shapes (on the GPU when
    there is one, unless `device` says otherwise)."""

    def supply(param):
        import torch

        shape = []
        for s in param.shape:
            value = getattr(s, "value", s)
            if not isinstance(value, int):
                raise ValueError(f"parameter {param.name}: dimension {s!r} is symbolic; give it a value")
            shape.append(value)
        where = device or ("cuda" if torch.cuda.is_available() else "cpu")
        return random_tensor(shape, param.dtype.torch, where, supply_type)

    return supply


# -- comparison -------------------------------------------------------------------------------------

class Mismatch:
    """What differs between two tensors (all fields plain Python values)."""

    def __init__(self, numel, count, worst_index, got, expected, max_abs, max_rel, nan_count):
        self.numel = numel
        self.count = count
        self.worst_index = worst_index
        self.got = got
        self.expected = expected
        self.max_abs = max_abs
        self.max_rel = max_rel
        self.nan_count = nan_count

    @property
    def ratio(self) -> float:
        return self.count / self.numel if self.numel else 0.0

    def describe(self, name: str = "output", atol=None, rtol=None) -> str:
        tol = f" beyond atol={atol:g}, rtol={rtol:g}" if atol is not None and rtol is not None else ""
        text = (f"{name}: {self.count} of {self.numel} elements ({100 * self.ratio:.2f}%) differ{tol}; "
                f"max abs diff {self.max_abs:.6g}, max rel diff {self.max_rel:.6g}")
        if self.worst_index is not None:
            text += (f"; worst at index {self.worst_index}: got {self.got:.6g}, expected {self.expected:.6g}")
        if self.nan_count:
            text += f"; {self.nan_count} element(s) are NaN in one tensor only"
        return text


def compare_tensors(actual, expected, rtol: float = 1e-2, atol: float = 1e-2, equal_nan: bool = True) -> Mismatch:
    """Element-wise |actual - expected| <= atol + rtol * |expected|, computed in float64 on the CPU."""
    import torch

    a = actual.detach().to("cpu", torch.float64)
    b = expected.detach().to("cpu", torch.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shape mismatch: got {tuple(a.shape)}, expected {tuple(b.shape)}")
    diff = (a - b).abs()
    close = diff <= atol + rtol * b.abs()
    both_nan = torch.isnan(a) & torch.isnan(b)
    same_inf = torch.isinf(a) & torch.isinf(b) & (a == b)
    close |= same_inf
    if equal_nan:
        close |= both_nan
    one_nan = torch.isnan(a) ^ torch.isnan(b)
    diff = torch.where(close, torch.zeros_like(diff), diff)
    diff = torch.where(one_nan, torch.full_like(diff, float("inf")), diff)
    rel = diff / b.abs().clamp_min(1e-12)
    count = int((~close).sum())
    worst = None
    got = want = 0.0
    if count:
        flat = int(torch.argmax(torch.where(close, torch.full_like(diff, -1.0), diff).reshape(-1)))
        worst = tuple(int(i) for i in _unravel(flat, a.shape))
        got, want = float(a.reshape(-1)[flat]), float(b.reshape(-1)[flat])
    max_abs = float(diff.max()) if diff.numel() else 0.0
    max_rel = float(rel.max()) if rel.numel() else 0.0
    return Mismatch(a.numel(), count, worst, got, want, max_abs, max_rel, int(one_nan.sum()))


def _unravel(flat: int, shape) -> list:
    index = []
    for n in reversed(tuple(shape)):
        index.append(flat % n)
        flat //= n
    return list(reversed(index))


def torch_assert_close(tensor_a, tensor_b, rtol: float = 1e-2, atol: float = 1e-2, max_mismatched_ratio: float = 0.001,
                       verbose: bool = False, equal_nan: bool = True, check_device: bool = True,
                       check_dtype: bool = False, check_layout: bool = True, check_stride: bool = False,
                       base_name: str = "LHS", ref_name: str = "RHS"):
    """Assert that at most `max_mismatched_ratio` of the elements differ beyond the tolerance.

    The message names the worst element, the number of mismatches and the largest differences.
    """
    if check_device and tensor_a.device != tensor_b.device:
        raise AssertionError(f"device mismatch: {base_name} on {tensor_a.device}, {ref_name} on {tensor_b.device}")
    if check_dtype and tensor_a.dtype != tensor_b.dtype:
        raise AssertionError(f"dtype mismatch: {base_name} is {tensor_a.dtype}, {ref_name} is {tensor_b.dtype}")
    if tensor_a.shape != tensor_b.shape:
        raise AssertionError(f"shape mismatch: {base_name} has shape {tuple(tensor_a.shape)}, "
                             f"{ref_name} has {tuple(tensor_b.shape)}")
    m = compare_tensors(tensor_a, tensor_b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if m.ratio > max_mismatched_ratio:
        raise AssertionError(f"{m.describe(f'{base_name} vs {ref_name}', atol, rtol)} "
                             f"(allowed: {100 * max_mismatched_ratio:.2f}%)")
    if verbose and m.count:
        print(m.describe(f"{base_name} vs {ref_name}", atol, rtol))
    return m
