"""Debugging aids: T.print / T.device_assert on the CPU, IR dumps, show_layouts."""
import importlib.util
import os

import pytest
import torch

import tilelang
import tilelang.language as T
from tilelang.errors import TileLangError


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


requires_cpu_backend = pytest.mark.skipif(not _have("tilelang.backend.cpu"), reason="no CPU backend")
requires_cuda_compiler = pytest.mark.skipif(
    not (_have("tilelang.backend.cuda.pipeline") and _have("tilelang.backend.cuda.codegen") and _have("cuda.bindings")),
    reason="the CUDA compiler (passes, codegen, NVRTC) is not installed")


def printing(n=8):
    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(2, threads=n) as bx:
            A_s = T.alloc_shared((n,), "float32")
            T.copy(A, A_s)
            T.print(A_s, msg="tile")
            T.print(bx, msg="block")
            for i in T.Parallel(n):
                B[i] = A_s[i] * 2

    return main


def asserting(n=8):
    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=n) as bx:
            tx = T.get_thread_binding()
            T.device_assert(A[tx] >= 0, "inputs must be non-negative")
            B[tx] = A[tx]

    return main


def elementwise(n=128):
    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(n):
                B[i] = A[i] + 1

    return main


def gemm(M=64, N=64, K=32):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, 1, threads=128) as (bx, by):
            A_s = T.alloc_shared((M, K), "float16")
            B_s = T.alloc_shared((K, N), "float16")
            C_f = T.alloc_fragment((M, N), "float32")
            T.clear(C_f)
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C)

    return main


@requires_cpu_backend
def test_print_on_the_cpu_shows_the_tile_and_the_scalar(capsys):
    kernel = tilelang.compile(printing(), out_idx=[1], target="cpu")
    out = kernel(torch.arange(8, dtype=torch.float32))
    assert torch.equal(out, torch.arange(8, dtype=torch.float32) * 2)
    text = capsys.readouterr().out
    assert text.count("tile") == 2  # once per block
    assert "7" in text and "block: 0" in text and "block: 1" in text


@requires_cpu_backend
def test_device_assert_on_the_cpu_raises_with_the_message():
    kernel = tilelang.compile(asserting(), out_idx=[1], target="cpu")
    kernel(torch.ones(8))
    bad = torch.ones(8)
    bad[3] = -1
    with pytest.raises(TileLangError, match="inputs must be non-negative") as info:
        kernel(bad)
    assert "thread 3" in str(info.value)


@requires_cpu_backend
def test_show_layouts_on_the_cpu_says_there_are_none(capsys):
    text = tilelang.compile(elementwise(), out_idx=[1], target="cpu").show_layouts()
    assert "no layouts" in text and "no layouts" in capsys.readouterr().out


@requires_cuda_compiler
def test_verbose_compile_dumps_the_ir_after_every_pass(capsys, monkeypatch):
    monkeypatch.delenv("TILELANG_DUMP_IR", raising=False)
    tilelang.compile(elementwise(), out_idx=[1], target="cuda -arch=sm_80", verbose=True)
    line = [l for l in capsys.readouterr().out.splitlines() if "IR after each pass" in l]
    assert line, "verbose=True should say where the IR went"
    folder = line[0].split(" in ", 1)[1].strip()
    files = sorted(os.listdir(folder))
    assert files[0].startswith("00_") and any("layout_inference" in f for f in files)
    assert any("lower_tile_ops" in f for f in files)
    assert "B" in open(os.path.join(folder, files[-1])).read()


@requires_cuda_compiler
def test_dump_ir_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TILELANG_DUMP_IR", str(tmp_path))
    tilelang.compile(elementwise(), out_idx=[1], target="cuda -arch=sm_80")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) >= 5 and names[0].startswith("00_")
    assert all(n.endswith(".txt") for n in names)


@requires_cuda_compiler
def test_show_layouts_names_the_gemm_buffers(capsys):
    kernel = tilelang.compile(gemm(), out_idx=[2], target="cuda -arch=sm_80")
    text = kernel.show_layouts()
    assert "C_f" in text and "A_s" in text
    assert text == capsys.readouterr().out.rstrip("\n")


@requires_cuda_compiler
def test_print_and_assert_compile_for_the_gpu():
    printed = tilelang.compile(printing(), out_idx=[1], target="cuda -arch=sm_80").get_kernel_source()
    assert 'printf("tile' in printed and 'printf("block' in printed
    asserted = tilelang.compile(asserting(), out_idx=[1], target="cuda -arch=sm_80").get_kernel_source()
    assert "inputs must be non-negative" in asserted
