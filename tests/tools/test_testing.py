import pytest
import torch

import tilelang.testing


def test_set_random_seed_makes_torch_repeatable():
    tilelang.testing.set_random_seed(7)
    a = torch.rand(4)
    tilelang.testing.set_random_seed(7)
    assert torch.equal(a, torch.rand(4))


def f():
    pass


def mark_of(decorator):
    import functools

    @functools.wraps(f)
    def g():
        pass

    return decorator(g).pytestmark[0]


def test_skip_markers_reflect_the_machine():
    mark = mark_of(tilelang.testing.requires_package("no_such_package_xyz"))
    assert mark.name == "skipif" and mark.args[0] is True and "no_such_package_xyz" in mark.kwargs["reason"]
    assert mark_of(tilelang.testing.requires_package("torch")).args[0] is False
    cuda = mark_of(tilelang.testing.requires_cuda)
    assert cuda.args[0] is (not torch.cuda.is_available())
    hopper = mark_of(tilelang.testing.requires_cuda_compute_version_ge(9, 0))
    assert hopper.args[0] is (tilelang.testing.cuda_compute_version() < (9, 0))
    with pytest.raises(ValueError, match="mode"):
        tilelang.testing.requires_cuda_compute_version(8, 0, mode="almost")


def test_torch_assert_close_names_the_worst_element():
    a = torch.zeros(3, 4)
    b = a.clone()
    b[2, 1] = 5
    tilelang.testing.torch_assert_close(a, a)
    with pytest.raises(AssertionError, match=r"1 of 12 .*index \(2, 1\).*got 0, expected 5"):
        tilelang.testing.torch_assert_close(a, b, max_mismatched_ratio=0.0)
