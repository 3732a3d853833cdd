"""CUDA C++ -> cubin, and build errors that point at the user's line (needs NVRTC or nvcc, no GPU)."""
import pytest

from tilelang.backend.cuda import toolchain

OK = r"""
#include "tl.cuh"
extern "C" __global__ void scale(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = tl::fast_exp2(x[i]);
}
"""

BAD_LINE = r"""
#include "tl.cuh"
extern "C" __global__ void broken(float* A, float* B) {
  // tilelang: /home/me/kernels/copy.py:12: T.copy(A[0:64], A_shared)
  A[threadIdx.x] = B[threadIdx.x];
  // tilelang: /home/me/kernels/copy.py:14: T.gemm(A_shared, B_shared, C_local)
  A[threadIdx.x] += undefined_thing;
}
"""

# the error is reported inside tl.cuh; the instantiation note leads back to line 6 here
BAD_TEMPLATE = r"""
#include "tl.cuh"
struct Opaque { char c[3]; };
extern "C" __global__ void broken_template(float* A) {
  // tilelang: user.py:21: T.reduce_sum(frag, out)
  Opaque o = tl::shfl_xor(Opaque{}, 1);
  A[0] = o.c[0];
}
"""


def test_builds_a_cubin(compiler):
    result = toolchain.build_cuda(OK, "sm_80", compiler=compiler)
    assert result.cubin[:4] == b"\x7fELF" and result.arch == "sm_80" and result.seconds > 0
    assert result.compiler.startswith(compiler)


def test_an_empty_log_leaves_python_constants_alone(compiler):
    # NVRTC writes its (empty) log into the buffer it is given; that buffer must never be an
    # interned bytes object, or b" " turns into b"\x00" for the rest of the process.
    for _ in range(2):
        toolchain.build_cuda(OK, "sm_80", compiler=compiler)
    assert b" " == bytes([32]) and b" ".join([b"a", b"b"]) == b"a b"


def test_error_points_at_the_user_line(compiler):
    with pytest.raises(toolchain.CudaBuildError) as info:
        toolchain.build_cuda(BAD_LINE, "sm_80", compiler=compiler, name="broken")
    err = info.value
    assert err.line == 7
    assert err.user_location == "/home/me/kernels/copy.py:14"
    text = str(err)
    assert "undefined_thing" in text and "is undefined" in text
    assert ">     7 |   A[threadIdx.x] += undefined_thing;" in text
    assert "user source: /home/me/kernels/copy.py:14: T.gemm(A_shared, B_shared, C_local)" in text
    assert "undefined_thing" in err.log


def test_header_template_error_maps_to_the_instantiating_line(compiler):
    with pytest.raises(toolchain.CudaBuildError) as info:
        toolchain.build_cuda(BAD_TEMPLATE, "sm_80", compiler=compiler, name="tmpl")
    assert info.value.line == 6
    assert info.value.user_location == "user.py:21"
    assert "shuffle needs a 2-, 4- or 8-byte type" in str(info.value)


def test_unknown_arch_and_compiler_are_rejected():
    with pytest.raises(ValueError, match="not a CUDA architecture: 'gfx90a'"):
        toolchain.build_cuda(OK, "gfx90a")
    if toolchain.compiler_id() != "none":
        with pytest.raises(ValueError, match="unknown CUDA compiler 'clang'"):
            toolchain.build_cuda(OK, "sm_80", compiler="clang")


@pytest.mark.parametrize("target, arch", [("cuda -arch=sm_80", "sm_80"), ("sm_90a", "sm_90a"),
                                          ("cuda --gpu-architecture=sm_89", "sm_89")])
def test_parse_target(target, arch):
    assert toolchain.parse_target(target) == arch


def test_parse_target_rejects_nonsense():
    with pytest.raises(ValueError, match="unrecognised CUDA target"):
        toolchain.parse_target("rocm")


def test_compute_capability():
    assert toolchain.compute_capability("sm_90a") == 90 and toolchain.compute_capability("sm_80") == 80


def test_header_hash_covers_the_include_directory():
    digest = toolchain.header_hash()
    assert len(digest) == 64 and digest == toolchain.header_hash()
