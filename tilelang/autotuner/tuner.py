"""Searching a kernel factory's configurations for the fastest correct kernel.

Candidates compile in parallel in worker processes (which warms the kernel cache, so the
main process then loads each one cheaply); a factory that cannot be sent to another process
(a closure, a lambda) compiles in threads instead. Each compiled candidate is checked
against `ref_prog` and timed with the profiler, one at a time. A candidate that fails to
compile, run or check is skipped with a one-line reason. The best config is stored under
`$TILELANG_CACHE_DIR/autotune/`, keyed by the factory's source, its arguments, the search
space, the compile arguments and the device, so tuning the same thing again is a file read.
"""
from __future__ import annotations

import concurrent.futures as cf
import functools
import inspect
import itertools
import os
import pickle
import sys
import time

from ..utils.tensor import TensorSupplyType
from . import cache
from .capture import get_autotune_inputs
from .param import AutotuneResult, CompileArgs, ProfileArgs
from ..ir.function import PrimFunc
from ..jit import compile
from ..target import Target, default_target, parse_target
from ..backend.cuda import resolve_arch
from ..jit.jit import _freeze

_RESERVED = ("pass_configs",)


# -- the search space ----------------------------------------------------------------------

def expand_configs(configs, args=(), kwargs=None) -> list:
    """A list of dicts from: a list of dicts, a dict of lists (all combinations), or a callable
    taking the factory's fixed arguments and returning either."""
    if callable(configs) and not isinstance(configs, (list, tuple, dict)):
        configs = configs(*args, **(kwargs or {}))
    if isinstance(configs, dict):
        names = list(configs)
        values = [v if isinstance(v, (list, tuple, range)) else [v] for v in configs.values()]
        return [dict(zip(names, combo)) for combo in itertools.product(*values)]
    configs = list(configs)
    if not all(isinstance(c, dict) for c in configs):
        raise TypeError("autotune configs must be dicts of parameter values")
    return [dict(c) for c in configs]


def _keep(configs):
    """Configs as given, except one-shot iterators (generators), which become lists."""
    if callable(configs) or isinstance(configs, (list, tuple, dict)):
        return configs
    return list(configs)


def _raw_function(fn):
    """The plain Python function under @autotune / @tilelang.jit wrappers."""
    seen = 0
    while seen < 8:
        seen += 1
        if hasattr(fn, "jit_impl"):
            fn = fn.jit_impl
        elif hasattr(fn, "get_tir") and hasattr(fn, "fn"):
            fn = fn.fn
        else:
            break
    return fn


class FactoryRef:
    """A factory named by module and qualified name, so a worker process can import it."""

    def __init__(self, module: str, qualname: str):
        self.module = module
        self.qualname = qualname

    @classmethod
    def of(cls, fn):
        """A ref that resolves back to `fn`, or None when `fn` cannot be found by name."""
        raw = _raw_function(fn)
        module, qualname = getattr(raw, "__module__", None), getattr(raw, "__qualname__", "")
        if not module or "<locals>" in qualname or "<lambda>" in qualname:
            return None
        ref = cls(module, qualname)
        try:
            return ref if ref.resolve() is raw else None
        except Exception:
            return None

    def resolve(self):
        import importlib

        obj = sys.modules.get(self.module) or importlib.import_module(self.module)
        for part in self.qualname.split("."):
            obj = getattr(obj, part)
        return _raw_function(obj)


def _elaborate(factory, args, kwargs, config):

    config = {k: v for k, v in config.items() if k not in _RESERVED}
    func = factory(*args, **{**kwargs, **config})
    if not isinstance(func, PrimFunc):
        raise TypeError(f"the factory returned {type(func).__name__}, not a @T.prim_func")
    return func


def _compile_candidate(factory, args, kwargs, config, compile_kwargs):
    """Build one candidate (in whichever process or thread runs this)."""

    pass_configs = compile_kwargs.get("pass_configs")
    if isinstance(config.get("pass_configs"), dict):
        pass_configs = {**(pass_configs or {}), **config["pass_configs"]}
    func = _elaborate(factory, args, kwargs, config)
    return compile(func, out_idx=compile_kwargs.get("out_idx"), target=compile_kwargs.get("target", "auto"),
                   execution_backend=compile_kwargs.get("execution_backend", "auto"),
                   verbose=compile_kwargs.get("verbose", False), pass_configs=pass_configs)


def _compile_in_worker(ref: FactoryRef, args, kwargs, config, compile_kwargs) -> float:
    start = time.perf_counter()
    _compile_candidate(ref.resolve(), args, kwargs, config, compile_kwargs)
    return time.perf_counter() - start


def _reason(exc: BaseException) -> str:
    """One line: the error's type and message, and the user's line for TileLang errors."""
    message = getattr(exc, "message", None)
    if not isinstance(message, str):
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        message = lines[-1].strip() if lines else ""
    message = " ".join(message.split())
    span = getattr(exc, "span", None)
    where = f" ({span})" if span is not None else ""
    return f"{type(exc).__name__}: {message}"[:300] + where


# -- progress ----------------------------------------------------------------------------

class _Progress:
    """tqdm when installed, else one rewritten line on stderr."""

    def __init__(self, total: int, desc: str, enabled: bool = True):
        self.total, self.desc, self.done, self.enabled = total, desc, 0, enabled
        self.best = None
        self._bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=True)
            except ImportError:
                self._bar = None

    def _postfix(self) -> str:
        return "best: -" if self.best is None else f"best: {self.best:.4f} ms"

    def update(self, best):
        self.done += 1
        self.best = best
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(self._postfix())
            self._bar.update(1)
        else:
            sys.stderr.write(f"\r{self.desc}: {self.done}/{self.total} {self._postfix()}")
            sys.stderr.flush()

    def note(self, line: str):
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        else:
            sys.stderr.write(f"\r{line}\n")
            sys.stderr.flush()

    def close(self):
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()


# -- the tuner ------------------------------------------------------------------------------

class AutoTuner:
    """Explicit form:

        result = (AutoTuner.from_kernel(kernel=factory, configs=configs)
                  .set_compile_args(out_idx=[-1], target="auto")
                  .set_profile_args(ref_prog=ref, warmup=25, rep=100)
                  .run())
    """

    def __init__(self, fn, configs):
        self.fn = fn
        self.configs = _keep(configs)
        self.compile_args = CompileArgs()
        self.profile_args = ProfileArgs()
        self.fixed_args: tuple = ()
        self.fixed_kwargs: dict = {}
        self.num_workers: int | None = None
        self.show_progress = True
        if hasattr(fn, "get_tir") and hasattr(fn, "fn"):  # a @tilelang.jit factory: take its compile arguments
            self.compile_args = CompileArgs(out_idx=fn.out_idx, target=fn.target, execution_backend=fn.execution_backend,
                                            verbose=fn.verbose, pass_configs=fn.pass_configs)

    @classmethod
    def from_kernel(cls, kernel, configs):
        """A tuner for `kernel`, a function (or @tilelang.jit factory) returning a @T.prim_func."""
        return cls(kernel, configs)

    def set_compile_args(self, out_idx=None, target="auto", execution_backend="auto", target_host=None,
                         verbose=False, pass_configs=None):
        self.compile_args = CompileArgs(out_idx=out_idx, target=target if target is not None else "auto",
                                        execution_backend=execution_backend or "auto", target_host=target_host,
                                        verbose=bool(verbose), pass_configs=pass_configs)
        return self

    def set_profile_args(self, warmup: float = 25, rep: float = 100, timeout: float = 30,
                         supply_type: TensorSupplyType = TensorSupplyType.Auto, ref_prog=None, supply_prog=None,
                         rtol: float = 1e-2, atol: float = 1e-2, max_mismatched_ratio: float = 0.01,
                         skip_check: bool = False, manual_check_prog=None, cache_input_tensors: bool = False, **_ignored):
        captured = get_autotune_inputs()
        if captured is not None:  # inside `with set_autotune_inputs(...)`: those tensors, for every candidate
            supply_prog = lambda params, _inputs=tuple(captured): list(_inputs)  # noqa: E731
        self.profile_args = ProfileArgs(warmup=warmup, rep=rep, timeout=timeout, supply_type=supply_type,
                                        ref_prog=ref_prog, supply_prog=supply_prog, rtol=rtol, atol=atol,
                                        max_mismatched_ratio=max_mismatched_ratio, skip_check=skip_check,
                                        manual_check_prog=manual_check_prog, cache_input_tensors=cache_input_tensors)
        return self

    def set_kernel_parameters(self, args, kwargs=None):
        """The factory's fixed (non-tuned) arguments, passed to it along with each config."""
        self.fixed_args = tuple(args)
        self.fixed_kwargs = dict(kwargs or {})
        return self

    # -- pieces -------------------------------------------------------------------------
    def _factory(self):
        fn = self.fn
        if hasattr(fn, "get_tir") and hasattr(fn, "fn"):
            return fn.fn
        return _raw_function(fn)

    def _target_kind(self) -> str:

        target = parse_target(self.compile_args.target)
        return (target or default_target()).kind

    def cache_key(self, configs: list) -> str:
        return cache.make_key({
            "function": cache.function_identity(self._factory()),
            "args": cache.stable(self.fixed_args),
            "kwargs": cache.stable(self.fixed_kwargs),
            "configs": cache.stable(configs),
            "compile": cache.stable({k: v for k, v in self.compile_args.as_kwargs().items() if k != "verbose"}),
            "device": cache.device_name(self._target_kind()),
        })

    def _load_cached(self, key: str, configs: list):
        record = cache.load(key)
        if record is None or record.get("config") not in configs:
            return None
        try:
            kernel = _compile_candidate(self._factory(), self.fixed_args, self.fixed_kwargs, record["config"],
                                        self.compile_args.as_kwargs())
        except Exception:  # noqa: BLE001 - a stale entry: tune again
            return None
        return _label(AutotuneResult(latency=record.get("latency"), config=record["config"],
                                     ref_latency=record.get("ref_latency"), libcode=_source_of(kernel),
                                     func=kernel.prim_func, kernel=kernel, from_cache=True))

    def _store(self, key: str, result: AutotuneResult):
        cache.store(key, {"config": result.config, "latency": result.latency, "ref_latency": result.ref_latency,
                          "function": getattr(self._factory(), "__qualname__", "?"),
                          "device": cache.device_name(self._target_kind()), "time": time.time()})

    def _check_keys(self, configs: list):
        factory = self._factory()
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            return
        if any(p.kind == p.VAR_KEYWORD for p in params.values()):
            return
        for c in configs:
            unknown = [k for k in c if k not in params and k not in _RESERVED]
            if unknown:
                raise ValueError(f"autotune config {c} names {', '.join(unknown)}, which "
                                 f"{getattr(factory, '__qualname__', factory)}() does not take")

    def _start_compiles(self, configs: list, workers: int):
        """(executor, {future: index}, mode): processes when the factory can be named, else threads."""
        compile_kwargs = self.compile_args.as_kwargs()
        target = parse_target(self.compile_args.target) or default_target()
        if target.kind == "cuda" and target.arch is None:
            # Name the arch so workers need not query the GPU; the kernel-cache key stays the same.
            try:

                target = Target("cuda", resolve_arch(target))
            except Exception:  # noqa: BLE001 - workers will detect it themselves
                pass
        compile_kwargs["target"] = str(target)
        # Worker processes pay off through the kernel cache they fill; without it, use threads.
        kernel_cache_off = os.environ.get("TILELANG_DISABLE_CACHE", "").strip().lower() in ("1", "true", "yes", "on")
        ref = FactoryRef.of(self.fn) if workers > 1 and not kernel_cache_off else None
        if ref is not None:
            try:
                pickle.dumps((ref, self.fixed_args, self.fixed_kwargs, configs, compile_kwargs))
            except Exception:
                ref = None
        if ref is not None:
            import multiprocessing

            ctx = multiprocessing.get_context(_start_method())
            pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
            futures = {pool.submit(_compile_in_worker, ref, self.fixed_args, self.fixed_kwargs, c, compile_kwargs): i
                       for i, c in enumerate(configs)}
            return pool, futures, "processes"
        pool = cf.ThreadPoolExecutor(max_workers=max(1, workers))
        factory = self._factory()
        futures = {pool.submit(_compile_candidate, factory, self.fixed_args, self.fixed_kwargs, c, compile_kwargs): i
                   for i, c in enumerate(configs)}
        return pool, futures, "threads"

    # -- the search ---------------------------------------------------------------------
    def run(self, warmup: float | None = None, rep: float | None = None, timeout: float | None = None,
            num_workers: int | None = None, **_ignored) -> AutotuneResult:
        """Tune (or read the cached result) and return the best candidate as an AutotuneResult."""
        pa = self.profile_args
        warmup = pa.warmup if warmup is None else warmup
        rep = pa.rep if rep is None else rep
        timeout = pa.timeout if timeout is None else timeout
        configs = expand_configs(self.configs, self.fixed_args, self.fixed_kwargs)
        if not configs:
            raise ValueError("autotune: no configurations to try")
        self._check_keys(configs)
        key = self.cache_key(configs)
        cached = self._load_cached(key, configs)
        if cached is not None:
            return cached

        workers = num_workers or self.num_workers or int(os.environ.get("TILELANG_AUTO_TUNING_CPU_COUNTS", "0") or 0)
        workers = max(1, min(len(configs), workers or min(8, os.cpu_count() or 1)))
        name = getattr(self._factory(), "__name__", "kernel")
        progress = _Progress(len(configs), f"autotune {name}", self.show_progress)
        pool, futures, mode = self._start_compiles(configs, workers)
        factory = self._factory()
        bench = _Bench(pa, warmup, rep, timeout)
        best: AutotuneResult | None = None
        skipped, latencies = [], []

        def skip(config, reason):
            skipped.append((config, reason))
            progress.note(f"autotune: skipped {config}: {reason}")

        def consider(config, fut):
            nonlocal best
            try:
                kernel = fut.result()
                if mode == "processes":  # the worker warmed the kernel cache; load it here
                    kernel = _compile_candidate(factory, self.fixed_args, self.fixed_kwargs, config,
                                                self.compile_args.as_kwargs())
            except Exception as e:  # noqa: BLE001 - any failure skips the candidate
                skip(config, f"compile failed: {_reason(e)}")
                return
            latency, why = bench.measure(kernel)
            if latency is None:
                skip(config, why)
                return
            latencies.append((config, latency))
            if best is None or latency < best.latency:
                best = AutotuneResult(latency=latency, config=config, kernel=kernel)

        pending = set(futures)
        try:
            while pending:
                # A candidate compiles for at most `timeout` seconds once a worker is free for it:
                # if none finishes within that time, the rest are given up.
                done, pending = cf.wait(pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
                if not done:
                    for fut in pending:
                        skip(configs[futures[fut]], f"compile timed out (nothing finished in {timeout:g} s)")
                        progress.update(best.latency if best else None)
                    break
                for fut in sorted(done, key=futures.get):
                    consider(configs[futures[fut]], fut)
                    progress.update(best.latency if best else None)
        finally:
            _stop(pool, mode, bool(pending))
            progress.close()
        if best is None:
            reasons = "; ".join(f"{c}: {r}" for c, r in skipped[:5])
            raise RuntimeError(f"autotune {name}: every configuration failed ({len(skipped)}): {reasons}")
        best.ref_latency = bench.ref_latency
        best.libcode = _source_of(best.kernel)
        best.func = best.kernel.prim_func
        best.skipped = skipped
        best.latencies = latencies
        _label(best)
        self._store(key, best)
        return best

    def __call__(self) -> AutotuneResult:
        return self.run()


def _label(result: AutotuneResult) -> AutotuneResult:
    """Tuned kernels carry their config and latencies, as in the reference (`kernel.config`)."""
    for name in ("config", "latency", "ref_latency"):
        try:
            setattr(result.kernel, name, getattr(result, name))
        except AttributeError:
            pass
    return result


def _stop(pool, mode: str, stuck: bool):
    """Shut the pool down; worker processes still compiling a timed-out candidate are killed."""
    processes = list(getattr(pool, "_processes", {}).values()) if mode == "processes" and stuck else []
    pool.shutdown(wait=not stuck, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.kill()


def _source_of(kernel):
    try:
        return kernel.get_kernel_source()
    except Exception:
        return None


def _start_method() -> str:
    """fork is fast, but not after CUDA was initialised in this process."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    try:
        import torch

        if torch.cuda.is_initialized():
            return "spawn"
    except Exception:
        pass
    return "fork"


class _Bench:
    """Checks and times compiled candidates on shared (or fresh) inputs."""

    def __init__(self, pa: ProfileArgs, warmup, rep, timeout):
        self.pa, self.warmup, self.rep, self.timeout = pa, warmup, rep, timeout
        self.inputs = None
        self.ref_latency = None

    def _inputs(self, profiler):
        if self.inputs is not None and self.pa.cache_input_tensors:
            return self.inputs
        if self.pa.supply_prog is not None:
            ins = list(self.pa.supply_prog(profiler._get_params()))
        else:
            ins = profiler._get_inputs()
        self.inputs = ins
        return ins

    def measure(self, kernel):
        """(latency in ms, None) or (None, reason)."""
        pa = self.pa
        try:
            profiler = kernel.get_profiler(pa.supply_type)
            ins = self._inputs(profiler)
        except Exception as e:  # noqa: BLE001
            return None, f"could not make inputs: {_reason(e)}"
        if pa.ref_prog is not None and not pa.skip_check:
            try:
                if pa.manual_check_prog is not None:
                    profiler.manual_assert_close(pa.ref_prog, input_tensors=ins, manual_check_prog=pa.manual_check_prog)
                else:
                    profiler.assert_allclose(pa.ref_prog, input_tensors=ins, rtol=pa.rtol, atol=pa.atol,
                                             max_mismatched_ratio=pa.max_mismatched_ratio)
            except AssertionError as e:
                return None, f"wrong result: {' '.join(str(e).split())}"
            except Exception as e:  # noqa: BLE001
                return None, f"run failed: {_reason(e)}"
        try:
            start = time.perf_counter()
            latency = profiler.do_bench(warmup=self.warmup, rep=self.rep, input_tensors=ins)
            if time.perf_counter() - start > self.timeout:
                return None, f"benchmark took longer than timeout={self.timeout} s"
        except Exception as e:  # noqa: BLE001
            return None, f"run failed: {_reason(e)}"
        if pa.ref_prog is not None and self.ref_latency is None:
            try:
                self.ref_latency = profiler.do_bench(pa.ref_prog, warmup=self.warmup, rep=self.rep, input_tensors=ins)
            except Exception:  # noqa: BLE001 - the reference's speed is informative only
                self.ref_latency = None
        return latency, None


# -- the decorator ---------------------------------------------------------------------------

class AutoTuneImpl:
    """What `@tilelang.autotune(configs=...)` returns when stacked on a `@tilelang.jit` factory.

    Calling it with the tunable arguments omitted tunes (once per distinct fixed arguments)
    and returns the best kernel; giving any tunable argument compiles that config directly.
    """

    def __init__(self, jit_impl, configs, warmup=25, rep=100, timeout=100, supply_type=TensorSupplyType.Auto,
                 ref_prog=None, supply_prog=None, rtol=1e-2, atol=1e-2, max_mismatched_ratio=0.01, skip_check=False,
                 manual_check_prog=None, cache_input_tensors=False, num_workers=None):
        self.jit_impl = jit_impl
        functools.update_wrapper(self, jit_impl.fn)
        self.configs = _keep(configs)
        self.warmup, self.rep, self.timeout = warmup, rep, timeout
        self.profile = dict(supply_type=supply_type, ref_prog=ref_prog, supply_prog=supply_prog, rtol=rtol, atol=atol,
                            max_mismatched_ratio=max_mismatched_ratio, skip_check=skip_check,
                            manual_check_prog=manual_check_prog, cache_input_tensors=cache_input_tensors)
        self.num_workers = num_workers
        self.results: dict = {}

    def get_tuner(self, *args, **kwargs) -> AutoTuner:
        tuner = AutoTuner(self.jit_impl, self.configs).set_profile_args(
            warmup=self.warmup, rep=self.rep, timeout=self.timeout, **self.profile)
        tuner.num_workers = self.num_workers
        return tuner.set_kernel_parameters(args, kwargs)

    get_tunner = get_tuner  # the reference's spelling

    def __call__(self, *args, **kwargs):

        if self.jit_impl.is_eager:
            raise TypeError(f"@tilelang.autotune needs a @tilelang.jit factory returning a @T.prim_func; "
                            f"{self.jit_impl.fn.__qualname__} is an eager kernel")
        configs = expand_configs(self.configs, args, kwargs)
        tunable = {k for c in configs for k in c if k not in _RESERVED}
        try:
            given = self.jit_impl.signature.bind_partial(*args, **kwargs).arguments
        except TypeError as e:
            raise TypeError(f"{self.jit_impl.fn.__qualname__}(): {e}") from None
        if tunable & set(given):
            return self.jit_impl(*args, **kwargs)
        key = (_freeze(args), _freeze(kwargs))
        result = self.results.get(key)
        if result is None:
            result = self.results[key] = self.get_tuner(*args, **kwargs).run()
        return result.kernel

    def compile(self, *args, **kwargs):
        return self(*args, **kwargs)

    def best(self, *args, **kwargs) -> AutotuneResult:
        """The AutotuneResult for these fixed arguments (tuning if needed)."""

        self(*args, **kwargs)
        return self.results[(_freeze(args), _freeze(kwargs))]


def autotune(func=None, *, configs, warmup: float = 25, rep: float = 100, timeout: float = 100,
             supply_type: TensorSupplyType = TensorSupplyType.Auto, ref_prog=None, supply_prog=None,
             rtol: float = 1e-2, atol: float = 1e-2, max_mismatched_ratio: float = 0.01, skip_check: bool = False,
             manual_check_prog=None, cache_input_tensors: bool = False, num_workers: int | None = None, **_ignored):
    """Decorator for a `@tilelang.jit` factory: `@tilelang.autotune(configs=[...])` above `@tilelang.jit(...)`.

    `configs` is a list of dicts of tunable arguments, a dict of value lists (all combinations),
    or a callable taking the factory's fixed arguments.
    """
    if func is not None:
        raise TypeError("use @tilelang.autotune(configs=...) with arguments, above @tilelang.jit")

    def decorate(impl):
        if not (hasattr(impl, "get_tir") and hasattr(impl, "signature")):
            raise TypeError("@tilelang.autotune goes above @tilelang.jit: the function it decorates must be a "
                            "@tilelang.jit factory")
        return AutoTuneImpl(impl, configs, warmup=warmup, rep=rep, timeout=timeout, supply_type=supply_type,
                            ref_prog=ref_prog, supply_prog=supply_prog, rtol=rtol, atol=atol,
                            max_mismatched_ratio=max_mismatched_ratio, skip_check=skip_check,
                            manual_check_prog=manual_check_prog, cache_input_tensors=cache_input_tensors,
                            num_workers=num_workers)

    return decorate
