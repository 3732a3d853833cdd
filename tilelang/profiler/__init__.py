"""Profiling and checking a compiled kernel: `kernel.get_profiler()`.

    profiler = kernel.get_profiler(tensor_supply_type=tilelang.TensorSupplyType.Auto)
    profiler.assert_allclose(ref_program, rtol=1e-2, atol=1e-2)
    ms = profiler.do_bench()

Inputs are made from the kernel's parameter shapes and dtypes on the kernel's device; the
outputs named by `out_idx` are created by the kernel itself.
"""
from __future__ import annotations

from ..utils.tensor import TensorSupplyType, compare_tensors, random_tensor, torch_assert_close  # noqa: F401
from .bench import do_bench
from ..ir import expr as E
from ..ir.visitor import collect, substitute
from ..arith import simplify

__all__ = ["Profiler", "TensorSupplyType", "do_bench", "torch_assert_close"]


def _as_list(outs) -> list:
    if outs is None:
        return []
    if isinstance(outs, (list, tuple)):
        return list(outs)
    return [outs]


class Profiler:
    """Makes inputs for a kernel, runs it, compares it with a reference and times it."""

    def __init__(self, kernel, tensor_supply_type=None):
        self.kernel = kernel
        self.supply_type = TensorSupplyType.Auto if tensor_supply_type is None else TensorSupplyType(tensor_supply_type)
        self.params = list(kernel.params)
        self.result_idx = list(getattr(kernel, "out_idx", None) or [])

    # -- where the kernel runs ----------------------------------------------------------
    @property
    def device_kind(self) -> str:
        kind = getattr(self.kernel, "_default_kind", None)
        if kind is None:
            target = getattr(self.kernel, "target", None)
            kind = getattr(target, "kind", None) or "cpu"
        return kind

    @property
    def device(self):
        import torch

        return torch.device("cuda", torch.cuda.current_device()) if self.device_kind == "cuda" else torch.device("cpu")

    # -- inputs ---------------------------------------------------------------------------
    def _get_params(self, with_output: bool = False) -> list:
        return [p for i, p in enumerate(self.params) if with_output or i not in self.result_idx]

    def _get_inputs(self, with_output: bool = False, dynamic_symbolic_constraints: dict | None = None) -> list:
        """One tensor per input parameter (all parameters with `with_output`)."""
        constraints = dict(dynamic_symbolic_constraints or {})
        device = self.device
        tensors = []
        for p in self._get_params(with_output):
            if not hasattr(p, "shape"):
                raise ValueError(f"parameter {p.name} is a scalar ({p.dtype}); the profiler cannot invent it: "
                                 "pass input_tensors=[...] to do_bench / assert_allclose")
            shape = self._concrete_shape(p, constraints)
            tensors.append(random_tensor(shape, p.dtype.torch, device, self.supply_type))
        return tensors

    def _concrete_shape(self, param, constraints: dict) -> list:
        shape, missing = [], []
        for dim in param.shape:
            value = getattr(dim, "value", dim)
            if isinstance(value, int):
                shape.append(value)
                continue
            value = _evaluate_dim(dim, constraints)
            if value is None:
                missing.extend(n for n in _var_names(dim) if n not in constraints)
            shape.append(value)
        if missing:
            names = ", ".join(dict.fromkeys(missing))
            example = ", ".join(f"{n!r}: ..." for n in dict.fromkeys(missing))
            raise ValueError(f"parameter {param.name} has symbolic size(s) {names}; give them values with "
                             f"dynamic_symbolic_constraints={{{example}}} or pass input_tensors=[...]")
        return shape

    # -- running ----------------------------------------------------------------------------
    @property
    def func(self):
        return self.kernel

    def __call__(self, *args, **kwargs):
        return self.kernel(*args, **kwargs)

    def run_once(self, func=None):
        """Run the kernel (or `func`) once on fresh inputs and return its outputs."""
        ins = self._get_inputs()
        return (func or self.kernel)(*ins)

    def assert_allclose(self, reference_program, input_tensors=None, atol: float = 1e-2, rtol: float = 1e-2,
                        max_mismatched_ratio: float = 0.01):
        """Run the kernel and `reference_program` on the same inputs and compare every output.

        Fails when more than `max_mismatched_ratio` of an output's elements differ by more than
        atol + rtol * |expected|; the message names the output, the worst element, the number
        of mismatches and the largest absolute and relative differences.
        """
        ins = self._get_inputs() if input_tensors is None else list(input_tensors)
        ref_outs = _as_list(reference_program(*ins))
        lib_outs = _as_list(self.kernel(*ins))
        self._synchronize()
        if len(lib_outs) != len(ref_outs):
            raise AssertionError(f"the kernel returned {len(lib_outs)} output(s) but the reference returned {len(ref_outs)}")
        names = [self.params[i].name for i in self.result_idx] if len(self.result_idx) == len(lib_outs) else []
        for k, (got, want) in enumerate(zip(lib_outs, ref_outs)):
            if got is None or want is None:
                continue
            import torch

            want = want.to(got.device) if isinstance(want, torch.Tensor) else torch.as_tensor(want, device=got.device)
            if want.shape != got.shape and want.numel() == got.numel():
                raise AssertionError(f"output {k}: shape {tuple(got.shape)} differs from the reference's {tuple(want.shape)}")
            name = f"output {k} ({names[k]})" if names else f"output {k}"
            if want.shape != got.shape:
                raise AssertionError(f"{name}: shape {tuple(got.shape)} differs from the reference's {tuple(want.shape)}")
            m = compare_tensors(got, want, rtol=rtol, atol=atol)
            if m.ratio > max_mismatched_ratio:
                raise AssertionError(f"{m.describe(name, atol, rtol)} (allowed: {100 * max_mismatched_ratio:.2f}%)")

    def manual_assert_close(self, reference_program, input_tensors=None, manual_check_prog=None):
        """Run both programs and hand the two output lists to `manual_check_prog(lib_outs, ref_outs)`."""
        ins = self._get_inputs() if input_tensors is None else list(input_tensors)
        ref_outs = _as_list(reference_program(*ins))
        lib_outs = _as_list(self.kernel(*ins))
        self._synchronize()
        manual_check_prog(lib_outs, ref_outs)

    def assert_consistent(self, repeat: int = 10):
        """Run the kernel `repeat` more times on the same inputs; every run must give identical outputs."""
        import torch

        ins = self._get_inputs()
        first = [t.clone() for t in _as_list(self.kernel(*ins))]
        for r in range(repeat):
            for k, (a, b) in enumerate(zip(_as_list(self.kernel(*ins)), first)):
                if not torch.equal(a, b):
                    m = compare_tensors(a, b, rtol=0.0, atol=0.0)
                    raise AssertionError(f"run {r + 1} differs from the first run: {m.describe(f'output {k}')}")

    def do_bench(self, func=None, warmup: float = 25, rep: float = 100, n_warmup: int = 0, n_repeat: int = 0,
                 input_tensors=None, return_mode: str = "median", quantiles=None,
                 dynamic_symbolic_constraints: dict | None = None, backend: str = "auto", **_ignored) -> float:
        """Milliseconds per call of the kernel (or of `func`, e.g. a torch reference) on generated inputs.

        CUDA: CUDA events with L2 flushed between repetitions; CPU: a wall clock.
        """
        target = func if func is not None else self.kernel
        ins = list(input_tensors) if input_tensors is not None else self._get_inputs(
            dynamic_symbolic_constraints=dynamic_symbolic_constraints)
        if backend == "auto":
            backend = "event" if self.device_kind == "cuda" else "wall"
        return do_bench(lambda: target(*ins), warmup=warmup, rep=rep, n_warmup=n_warmup, n_repeat=n_repeat,
                        return_mode=return_mode, quantiles=quantiles, backend=backend)

    def _synchronize(self):
        if self.device_kind == "cuda":
            import torch

            torch.cuda.synchronize()


def _var_names(dim) -> list:

    if isinstance(dim, E.Var):
        return [dim.name]
    try:
        return [v.name for v in collect(dim, lambda n: isinstance(n, E.Var))]
    except Exception:
        return [repr(dim)]


def _evaluate_dim(dim, constraints: dict):
    """The value of a symbolic dimension given {var name: int}, or None if a var is missing."""
    if isinstance(dim, E.Var):
        return int(constraints[dim.name]) if dim.name in constraints else None
    names = _var_names(dim)
    if any(n not in constraints for n in names):
        return None
    mapping = {v: E.const(int(constraints[v.name]), v.dtype) for v in collect(dim, lambda n: isinstance(n, E.Var))}
    value = simplify(substitute(dim, mapping))
    return value.value if isinstance(value, E.IntImm) else None
