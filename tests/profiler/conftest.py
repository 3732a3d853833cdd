import pytest

from profiler_fakes import FakeKernel, add_one_func


@pytest.fixture
def fake_add_one():
    return FakeKernel(add_one_func(), lambda a: a + 1, [1])
