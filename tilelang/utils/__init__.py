"""Small helpers shared by the user tools (profiler, autotuner, testing)."""
from .tensor import TensorSupplyType, compare_tensors, get_tensor_supply, random_tensor, torch_assert_close  # noqa: F401
