"""LaunchPlan -> kernel parameters, checked with fake tensors (no GPU needed)."""
import ctypes
import pickle
import struct

import pytest

from tilelang.backend.cuda import driver
from tilelang.backend.cuda.runtime import CudaArtifact, LaunchPlan, ParamSpec
from tilelang.errors import ArgumentError, DeviceRuntimeError
from tilelang.ir import expr as E
from tilelang.ir.dtypes import int32


class FakeTensor:
    """What the packer reads from a torch tensor."""

    def __init__(self, pointer, shape=(64, 64), device=0):
        self.pointer, self.shape, self.device = pointer, shape, device

    def data_ptr(self):
        return self.pointer

    def get_device(self):
        return self.device

    def stride(self):
        return (self.shape[-1], 1)


N = E.Var(int32, "n")


def vector_add_plan(align=16):
    params = [ParamSpec.tensor(0, "A", align), ParamSpec.tensor(1, "B", align), ParamSpec.tensor(2, "C"),
              ParamSpec.scalar(3, "alpha", "float32"), ParamSpec.size("n")]
    return LaunchPlan("vadd", params, grid=((N + 255) // 256,), block=(256,))


def test_pack_reads_pointers_scalars_and_sizes():
    art = CudaArtifact("// source", b"", "vadd", vector_add_plan())
    grid, values, device = art.pack([FakeTensor(0x1000), FakeTensor(0x2000), FakeTensor(0x3004), 2.5], {N: 1000})
    assert grid == (4, 1, 1)
    assert values == (0x1000, 0x2000, 0x3004, 2.5, 1000)
    assert device == 0


def test_sizes_are_matched_by_name_after_a_cache_round_trip():
    art = pickle.loads(pickle.dumps(CudaArtifact("// source", b"\x7fELF", "vadd", vector_add_plan())))
    other_n = E.Var(int32, "n")  # a fresh Var object, as a rebuilt PrimFunc would have
    grid, values, _ = art.pack([FakeTensor(0x1000)] * 3 + [1.0], {other_n: 257})
    assert grid == (2, 1, 1) and values[-1] == 257
    assert art.cubin == b"\x7fELF" and art.source == "// source"


def test_misaligned_tensor_names_the_parameter():
    art = CudaArtifact("", b"", "vadd", vector_add_plan())
    with pytest.raises(ArgumentError, match=r"parameter B: its data pointer 0x2008 is not 16-byte aligned"):
        art.pack([FakeTensor(0x1000), FakeTensor(0x2008), FakeTensor(0x3000), 1.0], {N: 8})


def test_missing_size_is_named():
    art = CudaArtifact("", b"", "vadd", vector_add_plan())
    with pytest.raises(ArgumentError, match="symbolic size.*n"):
        art.pack([FakeTensor(0x1000)] * 3 + [1.0], {E.Var(int32, "m"): 8})


def test_grid_out_of_range_is_reported():
    plan = LaunchPlan("k", [ParamSpec.size("n")], grid=(1, N), block=(32,))
    art = CudaArtifact("", b"", "k", plan)
    with pytest.raises(DeviceRuntimeError, match=r"dimension 1 must be 0..65535"):
        art.pack([], {N: 70000})


def test_empty_grid_launches_nothing():
    # n = 0 gives a zero-sized grid: launch returns before touching the driver (no GPU here)
    art = CudaArtifact("", b"not a cubin", "vadd", vector_add_plan())
    art.launch([FakeTensor(0x1000)] * 3 + [1.0], {N: 0})
    assert art._launchers == {}


def test_static_grid_and_tma_parameter_layout():
    plan = LaunchPlan("tma_copy", [ParamSpec.tma(0, "A", "float16", (64, 64), swizzle="128B"),
                                   ParamSpec.tensor(1, "B"), ParamSpec.scalar(2, "k", "int64")],
                      grid=(8, 4), block=(128,), smem_bytes=96 * 1024)
    art = CudaArtifact("", b"", "tma_copy", plan)
    assert "grid = GRID" in art.pack_source and "tma0(args[0])" in art.pack_source
    buf = driver.ParamBuffer([p.ctype for p in plan.params])
    assert buf.offsets == (0, 128, 136)  # the 128-byte tensor map first, then 8-byte slots
    assert buf.address % 64 == 0
    buf.pack(b"\x01" * 128, 0xABC0, -5)
    assert buf.raw()[:128] == b"\x01" * 128
    assert struct.unpack_from("<Qq", buf.raw(), 128) == (0xABC0, -5)


def test_param_buffer_pads_to_each_alignment():
    buf = driver.ParamBuffer(["bool", "i32", "f16", "ptr", "u8", "f64"])
    assert buf.offsets == (0, 4, 8, 16, 24, 32)
    buf.pack(True, -7, 1.5, 0xDEADBEEF0, 255, 2.0)
    raw = buf.raw()
    assert struct.unpack_from("<?", raw, 0)[0] is True
    assert struct.unpack_from("<i", raw, 4)[0] == -7
    assert struct.unpack_from("<e", raw, 8)[0] == 1.5
    assert struct.unpack_from("<Q", raw, 16)[0] == 0xDEADBEEF0
    assert struct.unpack_from("<d", raw, 32)[0] == 2.0
    # the pointer array handed to cuLaunchKernel points at each slot
    assert [p - buf.address for p in buf.pointers] == list(buf.offsets)


def test_value_that_does_not_fit_names_the_parameter():
    art = CudaArtifact("", b"", "vadd", vector_add_plan())
    err = art._explain_pack_error((0x1000, 0x2000, 0x3000, 1.0, 2**40), struct.error("x"))
    assert isinstance(err, ArgumentError) and "parameter n" in str(err) and "i32" in str(err)


@pytest.mark.parametrize("make, message", [
    (lambda: ParamSpec("buffer", "ptr", 0, "A"), "kind 'buffer'"),
    (lambda: ParamSpec("tensor", "i32", 0, "A"), "passed as 'ptr'"),
    (lambda: ParamSpec("tensor", "ptr", None, "A"), "needs the PrimFunc parameter index"),
    (lambda: ParamSpec.scalar(0, "x", "bfloat16"), "bfloat16 scalar cannot be a kernel parameter"),
    (lambda: ParamSpec("tma_desc", "tensormap", 0, "A"), "needs its dtype and box"),
    (lambda: LaunchPlan("k", [], grid=(1,), block=(64, 32)), "1..1024 threads"),
])
def test_bad_specs_are_rejected(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_kernel_name_must_match_plan():
    with pytest.raises(ValueError, match="differs from the launch plan"):
        CudaArtifact("", b"", "other", vector_add_plan())


class FakeModule(driver.Module):
    """A loaded module without a GPU: one function handle."""

    def __init__(self):
        self.device, self.handle = 0, 0

    def function(self, name):
        return 0xF00


def test_launcher_hands_the_driver_config_and_parameters(monkeypatch):
    seen = []

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
    def fake_launch(config, function, params, extra):
        cfg = driver.LaunchConfig.from_address(config)
        slots = (ctypes.c_void_p * 3).from_address(params)
        values = (ctypes.c_uint64.from_address(slots[0]).value, ctypes.c_int32.from_address(slots[1]).value,
                  ctypes.c_float.from_address(slots[2]).value)
        seen.append((tuple(cfg.grid), tuple(cfg.block), cfg.shared_mem_bytes, cfg.stream, cfg.num_attrs,
                     function, values, extra))
        return 0

    monkeypatch.setattr(driver, "launch_entry", lambda: fake_launch)
    launcher = driver.Launcher(FakeModule(), "k", ["ptr", "i32", "f32"], block=(128, 2), dynamic_smem=1024)
    grid = (4, 2, 1)
    launcher(grid, 0x77, 0xABC0, -3, 0.5)
    launcher(grid, 0x77, 0xABD0, 7, 1.5)  # same grid and stream: config not rewritten, still right
    launcher((1, 1, 1), 0x78, 0xABE0, 9, 2.5)
    assert seen == [((4, 2, 1), (128, 2, 1), 1024, 0x77, 0, 0xF00, (0xABC0, -3, 0.5), None),
                    ((4, 2, 1), (128, 2, 1), 1024, 0x77, 0, 0xF00, (0xABD0, 7, 1.5), None),
                    ((1, 1, 1), (128, 2, 1), 1024, 0x78, 0, 0xF00, (0xABE0, 9, 2.5), None)]


def test_launcher_passes_cluster_dims_and_reports_failures(monkeypatch):
    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
    def failing_launch(config, function, params, extra):
        cfg = driver.LaunchConfig.from_address(config)
        attr = driver.LaunchAttribute.from_address(cfg.attrs)
        assert (cfg.num_attrs, attr.id, tuple(attr.value[:3])) == (1, 4, (2, 1, 1))
        return 1  # CUDA_ERROR_INVALID_VALUE

    monkeypatch.setattr(driver, "launch_entry", lambda: failing_launch)
    monkeypatch.setattr(driver, "error_name", lambda code: "CUDA_ERROR_INVALID_VALUE")
    launcher = driver.Launcher(FakeModule(), "k", ["ptr"], block=(64,), cluster=(2,))
    with pytest.raises(driver.CudaDriverError, match=r"cuLaunchKernelEx\(k, grid=\(3, 1, 1\).*CUDA_ERROR_INVALID_VALUE"):
        launcher((3, 1, 1), 0, 0x1000)
