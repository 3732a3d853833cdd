"""Timing a function: CUDA events with the L2 cache flushed before each repetition, or a wall clock.

`warmup` and `rep` are time budgets in milliseconds: one timed call estimates the cost, and
the budgets are divided by it to get the numbers of warm-up and timed calls (at least one
timed call). `n_warmup` / `n_repeat` override the counts. The result is in milliseconds.
"""
from __future__ import annotations

import statistics
import time
from ..target import cuda_available

RETURN_MODES = ("min", "max", "mean", "median")
_flush_buffers: dict = {}


def _flush_buffer(device, cache_size_mb: int):
    """A buffer larger than L2 (default 256 MB); writing it evicts the kernel's data."""
    import torch

    key = (str(device), cache_size_mb)
    buf = _flush_buffers.get(key)
    if buf is None:
        buf = _flush_buffers[key] = torch.empty(cache_size_mb * (1 << 20) // 4, dtype=torch.int32, device=device)
    return buf


def _aggregate(times: list, return_mode: str, quantiles):
    if quantiles is not None:
        ordered = sorted(times)
        values = [ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] for q in quantiles]
        return values[0] if len(values) == 1 else values
    if return_mode == "median":
        return float(statistics.median(times))
    if return_mode == "mean":
        return float(statistics.fmean(times))
    return float(min(times) if return_mode == "min" else max(times))


def _counts(estimate_ms: float, warmup, rep, n_warmup: int, n_repeat: int) -> tuple:
    estimate_ms = max(estimate_ms, 1e-4)
    nw = n_warmup if n_warmup > 0 else max(0, int(warmup / estimate_ms))
    nr = n_repeat if n_repeat > 0 else max(1, int(rep / estimate_ms))
    return nw, nr


def do_bench(fn, warmup: float = 25, rep: float = 100, _n_warmup: int = 0, _n_repeat: int = 0, quantiles=None,
             fast_flush: bool = True, return_mode: str = "median", device=None, cache_size: int = 256,
             n_warmup: int = 0, n_repeat: int = 0, backend: str = "auto", **_ignored) -> float:
    """Time `fn()` (no arguments) and return milliseconds: median by default.

    backend: "event" (CUDA events, L2 flushed between repetitions), "wall" (time.perf_counter,
    for the CPU backend) or "auto" (events when CUDA is available and `device` is not the CPU).
    """
    if return_mode not in RETURN_MODES:
        raise ValueError(f"return_mode must be one of {RETURN_MODES}, got {return_mode!r}")
    n_warmup = n_warmup or _n_warmup
    n_repeat = n_repeat or _n_repeat
    if backend in ("auto", None):
        backend = "event" if _use_cuda(device) else "wall"
    if backend in ("cupti", "cudagraph"):
        backend = "event"
    if backend == "wall":
        return _bench_wall(fn, warmup, rep, n_warmup, n_repeat, return_mode, quantiles)
    if backend != "event":
        raise ValueError(f"unknown benchmark backend {backend!r}; expected 'event', 'wall' or 'auto'")
    return _bench_events(fn, warmup, rep, n_warmup, n_repeat, return_mode, quantiles, device, cache_size)


def _use_cuda(device) -> bool:
    if device is not None and str(device).startswith("cpu"):
        return False

    return cuda_available()


def _bench_wall(fn, warmup, rep, n_warmup, n_repeat, return_mode, quantiles):
    fn()  # first call: compilation, allocation
    start = time.perf_counter()
    fn()
    estimate = (time.perf_counter() - start) * 1e3
    nw, nr = _counts(estimate, warmup, rep, n_warmup, n_repeat)
    for _ in range(nw):
        fn()
    times = []
    for _ in range(nr):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return _aggregate(times, return_mode, quantiles)


def _bench_events(fn, warmup, rep, n_warmup, n_repeat, return_mode, quantiles, device, cache_size):
    import torch

    dev = torch.device("cuda", torch.cuda.current_device()) if device is None or str(device) == "cuda" else torch.device(device)
    with torch.cuda.device(dev):
        fn()
        torch.cuda.synchronize()
        flush = _flush_buffer(dev, cache_size)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(5):
            flush.zero_()
            fn()
        end.record()
        end.synchronize()
        # The estimate includes the flush; that only makes the counts conservative.
        nw, nr = _counts(start.elapsed_time(end) / 5, warmup, rep, n_warmup, n_repeat)
        for _ in range(nw):
            fn()
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(nr)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(nr)]
        for s, e in zip(starts, ends):
            flush.zero_()
            s.record()
            fn()
            e.record()
        torch.cuda.synchronize()
        times = [s.elapsed_time(e) for s, e in zip(starts, ends)]
    return _aggregate(times, return_mode, quantiles)
