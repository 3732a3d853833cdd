"""Argument checking before a launch: each error names the parameter, expected vs got."""
import pytest
import torch

import tilelang
import tilelang.language as T
from tilelang.errors import ArgumentError
from tilelang.jit.arguments import ArgumentBinder
from tilelang.jit.kernel import normalize_out_idx

n = T.dynamic("n")


@T.prim_func
def scaled(X: T.Tensor((n, 64), "float16"), W: T.Tensor((64,), "float32"), Y: T.Tensor((n, 64), "float16"),
           alpha: T.float32):
    with T.Kernel(T.ceildiv(n, 4), threads=128) as bx:
        for i, j in T.Parallel(4, 64):
            Y[bx * 4 + i, j] = X[bx * 4 + i, j] * W[j] * alpha


def binder(kind="cpu"):
    return ArgumentBinder(scaled, normalize_out_idx([2], 4), kind)


def good_args():
    return torch.randn(8, 64).half(), torch.randn(64), 2.0


def test_binds_symbolic_sizes_and_allocates_outputs():
    full, sizes = binder().bind(good_args())
    assert sizes[n] == 8
    out = full[2]
    assert out.shape == (8, 64) and out.dtype == torch.float16 and out.device.type == "cpu"
    assert full[3] == 2.0


@pytest.mark.parametrize("args, words", [
    ((torch.randn(8, 64).half(), torch.randn(64)), ["takes 3 argument", "got 2", "Y"]),
    ((torch.randn(8, 64), torch.randn(64), 1.0), ["parameter X", "float16", "float32"]),
    ((torch.randn(8, 64).half(), torch.randn(32), 1.0), ["parameter W", "(64,)", "(32,)"]),
    ((torch.randn(8, 64, 1).half(), torch.randn(64), 1.0), ["parameter X", "2 dimensions"]),
    ((torch.randn(8, 64).half(), torch.randn(64), "x"), ["parameter alpha", "float32"]),
    (([1.0], torch.randn(64), 1.0), ["parameter X", "torch.Tensor"]),
])
def test_bad_arguments_name_the_parameter(args, words):
    with pytest.raises(ArgumentError) as info:
        binder().bind(args)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_symbolic_sizes_must_agree_across_parameters():
    m = T.dynamic("m")

    @T.prim_func
    def add(A: T.Tensor((m,), "float32"), B: T.Tensor((m,), "float32"), C: T.Tensor((m,), "float32")):
        with T.Kernel(T.ceildiv(m, 128), threads=128) as bx:
            for i in T.Parallel(128):
                C[bx * 128 + i] = A[bx * 128 + i] + B[bx * 128 + i]

    b = ArgumentBinder(add, [2], "cpu")
    with pytest.raises(ArgumentError, match=r"parameter B: dimension 0 is 5, but the symbolic size m is 4"):
        b.bind((torch.zeros(4), torch.zeros(5)))


def test_device_is_checked():
    with pytest.raises(ArgumentError, match="parameter X: expected a CUDA tensor"):
        binder("cuda").bind(good_args())


def test_out_idx_validation():
    assert normalize_out_idx(-1, 3) == [2]
    assert normalize_out_idx([0, 2], 3) == [0, 2]
    with pytest.raises(tilelang.TileLangError, match="out of range"):
        normalize_out_idx(3, 3)
    with pytest.raises(tilelang.TileLangError, match="twice"):
        normalize_out_idx([1, -2], 3)


def test_generated_fast_path_agrees_with_the_checked_path():
    b = binder()
    args = good_args()
    fast_full, fast_sizes = b.bind(args)
    assert callable(b._fast) and "def bind(args)" in b._fast.source
    full, sizes = b.bind_checked(args)
    assert fast_sizes == sizes
    assert [tuple(x.shape) if hasattr(x, "shape") else x for x in fast_full] == \
           [tuple(x.shape) if hasattr(x, "shape") else x for x in full]
    assert b._fast((args[0], args[1], True)) is None          # bool for a float: checked path names it
    assert b._fast((args[0].float(), args[1], 1.0)) is None   # wrong dtype


def test_fused_call_checks_packs_launches_and_declines(monkeypatch):
    """The backend's one-frame call path (CudaArtifact.make_call over the binder's checks),
    driven on the CPU with a fake launcher: the common call launches with the right values,
    anything unusual is declined (MISS) for the general path."""
    from tilelang.backend.cuda.runtime import CudaArtifact, LaunchPlan, ParamSpec
    from tilelang.jit.arguments import fast_bind_parts

    plan = LaunchPlan("k", [ParamSpec.tensor(0, "X", 16), ParamSpec.tensor(1, "W", 16), ParamSpec.tensor(2, "Y", 16),
                            ParamSpec.scalar(3, "alpha", "float32"), ParamSpec.size("n")], grid=((n + 3) // 4,),
                      block=(128,))
    art = CudaArtifact("src", b"", "k", plan)
    launches = []
    art._launchers[-1] = lambda grid, stream, *values: launches.append((grid, stream, values))

    class FakeTorchC:
        @staticmethod
        def _cuda_getDevice():
            return -1

        @staticmethod
        def _cuda_getCurrentRawStream(device):
            return 7

    monkeypatch.setattr(CudaArtifact, "_torch_c", staticmethod(lambda: FakeTorchC))
    checks = fast_bind_parts(binder("cpu"))   # CPU tensors stand in for device ones here
    call = art.make_call(checks, checks.full[2])
    x, w = torch.randn(8, 64).half(), torch.randn(64)
    y = call((x, w, 2.5))
    assert y.shape == (8, 64) and y.dtype == torch.float16
    (grid, stream, values), = launches
    assert grid == (2, 1, 1) and stream == 7
    assert values == (x.data_ptr(), w.data_ptr(), y.data_ptr(), 2.5, 8)
    assert call((x.float(), w, 2.5)) is call.miss           # wrong dtype: the checked path names it
    assert call(([1.0], w, 2.5)) is call.miss                # not a tensor
    assert call((x, w)) is call.miss                         # wrong count
    del art._launchers[-1]
    assert call((x, w, 2.5)) is call.miss                    # not loaded yet: the general path loads
