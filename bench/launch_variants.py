"""Which way of calling the CUDA driver costs the host least? (a diagnostic, not in run_all)

    python bench/launch_variants.py

Times back-to-back launches of the 1K-element add of launch_overhead.py through: the
Launcher as used (pack + cuLaunchKernelEx), its bare ctypes call, the same function pointer
without releasing the GIL (PyDLL flavour), legacy cuLaunchKernel with pre-built ctypes
arguments, cuda-bindings' cuLaunchKernel, and torch.add.
"""
import ctypes
import functools
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    import torch

    from launch_overhead import SIZE, artifact, host_us_per_call
    from tilelang.backend.cuda import driver

    a, b, c = (torch.randn(SIZE, device="cuda") for _ in range(3))
    art, n = artifact()
    args, sizes = [a, b, c], {n: SIZE}
    art.launch(args, sizes)
    torch.cuda.synchronize()
    grid, values, device = art.pack(args, sizes)
    launcher = art._launchers[device]
    stream = torch.cuda.current_stream().cuda_stream
    launcher(grid, stream, *values)
    rows = {"Launcher call (pack + cuLaunchKernelEx)": lambda: launcher(grid, stream, *values),
            "bare ctypes cuLaunchKernelEx": launcher._launch}

    lib = ctypes.PyDLL("libcuda.so.1")
    ex = lib._FuncPtr(("cuLaunchKernelEx", lib))
    ex.restype = ctypes.c_int
    bound = functools.partial(ex, *launcher._launch.args)
    rows["PyDLL cuLaunchKernelEx (GIL held)"] = bound

    legacy = lib._FuncPtr(("cuLaunchKernel", lib))
    legacy.restype = ctypes.c_int
    u = ctypes.c_uint
    fn = ctypes.c_void_p(launcher.function)
    legacy_args = (fn, u(grid[0]), u(grid[1]), u(grid[2]), u(256), u(1), u(1), u(0), ctypes.c_void_p(stream),
                   launcher.params.pointers, None)
    rows["PyDLL cuLaunchKernel, pre-built args"] = functools.partial(legacy, *legacy_args)
    try:
        from cuda.bindings import driver as cb

        kparams = launcher.params.pointers
        cu_fn, cu_stream = cb.CUfunction(launcher.function), cb.CUstream(stream)
        addr = ctypes.addressof(kparams)
        rows["cuda.bindings cuLaunchKernel"] = lambda: cb.cuLaunchKernel(cu_fn, grid[0], grid[1], grid[2], 256, 1, 1,
                                                                         0, cu_stream, addr, 0)
    except Exception as e:  # noqa: BLE001
        print("cuda.bindings variant skipped:", e)
    rows["torch.add(out=)"] = lambda: torch.add(a, b, out=c)
    for name, call in rows.items():
        c.zero_()
        call()
        torch.cuda.synchronize()
        ok = torch.allclose(c, a + b) if not name.startswith("torch") else True
        print(f"{name:45s} {host_us_per_call(call):6.2f} us/call  {'ok' if ok else 'WRONG RESULT'}", flush=True)


if __name__ == "__main__":
    main()
