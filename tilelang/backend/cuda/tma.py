"""TMA descriptors (CUtensorMap, 128 bytes) for tl::tma_load_Nd / tl::tma_store_Nd.

Shapes, strides and boxes are given outermost dimension first, as torch writes them, with
strides in elements; the innermost dimension must be contiguous. The encoded map lists
dimensions innermost first, as do the coordinates the kernel passes to tl::tma_load_Nd.
"""
from __future__ import annotations

import ctypes
from typing import Sequence

from tilelang.backend.cuda import driver

# tilelang dtype name -> (CUtensorMapDataType, bytes per element)
DTYPES = {
    "uint8": (0, 1), "int8": (0, 1), "float8_e4m3": (0, 1), "float8_e5m2": (0, 1), "bool": (0, 1),
    "uint16": (1, 2), "int16": (1, 2),
    "uint32": (2, 4), "int32": (3, 4),
    "uint64": (4, 8), "int64": (5, 8),
    "float16": (6, 2), "float32": (7, 4), "float64": (8, 8), "bfloat16": (9, 2),
}
SWIZZLES = {"none": 0, "32B": 1, "64B": 2, "128B": 3}
SWIZZLE_SPAN = {"none": None, "32B": 32, "64B": 64, "128B": 128}
L2_PROMOTIONS = {"none": 0, "64B": 1, "128B": 2, "256B": 3}
OOB_FILLS = {"zero": 0, "nan": 1}


def dtype_name(dtype) -> str:
    """'float16' for 'float16', torch.float16 or 'torch.float16'; fp8 names lose their 'fn' suffix."""
    name = str(dtype).removeprefix("torch.")
    return {"half": "float16", "float": "float32", "double": "float64", "float8_e4m3fn": "float8_e4m3",
            "float8_e5m2fn": "float8_e5m2"}.get(name, name)


def encode_tiled(dtype, address: int, shape: Sequence[int], strides: Sequence[int], box: Sequence[int], *,
                 element_strides: Sequence[int] | None = None, swizzle: str = "none",
                 l2_promotion: str = "128B", oob_fill: str = "zero") -> bytes:
    """Encode a tiled tensor map with cuTensorMapEncodeTiled; out-of-bounds box elements read as zero."""
    name = dtype_name(dtype)
    if name not in DTYPES:
        raise ValueError(f"TMA cannot move dtype {name!r}: supported are {sorted(DTYPES)}")
    code, itemsize = DTYPES[name]
    rank = len(shape)
    element_strides = tuple(element_strides) if element_strides is not None else (1,) * rank
    _validate(name, itemsize, address, tuple(shape), tuple(strides), tuple(box), element_strides, swizzle)
    u64, u32 = ctypes.c_uint64, ctypes.c_uint32
    dims = (u64 * rank)(*reversed(shape))
    byte_strides = (u64 * max(rank - 1, 1))(*(s * itemsize for s in reversed(strides[:-1])))
    boxes = (u32 * rank)(*reversed(box))
    elem = (u32 * rank)(*reversed(element_strides))
    out = ctypes.create_string_buffer(128 + 64)
    at = ctypes.addressof(out) + (-ctypes.addressof(out) % 64)
    driver.check(driver.libcuda().cuTensorMapEncodeTiled(
        at, code, rank, address, dims, byte_strides, boxes, elem, 0, SWIZZLES[swizzle],
        L2_PROMOTIONS[l2_promotion], OOB_FILLS[oob_fill]), "cuTensorMapEncodeTiled")
    return ctypes.string_at(at, 128)


def _validate(name, itemsize, address, shape, strides, box, element_strides, swizzle) -> None:
    rank = len(shape)
    if not 1 <= rank <= 5:
        raise ValueError(f"TMA tensors have 1 to 5 dimensions, got shape {shape}")
    if not len(strides) == len(box) == len(element_strides) == rank:
        raise ValueError(f"shape {shape}, strides {strides}, box {box} and element strides {element_strides} "
                         "must have the same length")
    if swizzle not in SWIZZLES:
        raise ValueError(f"unknown swizzle {swizzle!r}: expected one of {list(SWIZZLES)}")
    if address % 16:
        raise ValueError(f"TMA needs a 16-byte aligned global address, got {address:#x}")
    if strides[-1] != 1:
        raise ValueError(f"TMA needs a contiguous innermost dimension, got strides {strides}")
    for dim, stride in enumerate(strides[:-1]):
        if stride * itemsize % 16:
            raise ValueError(f"TMA needs byte strides that are multiples of 16: dim {dim} has "
                             f"{stride} x {itemsize} bytes ({name})")
    for dim, (extent, size) in enumerate(zip(shape, box)):
        if not 1 <= size <= 256:
            raise ValueError(f"TMA box sizes are 1..256, got {size} in dim {dim} (box {box})")
        if extent < 1:
            raise ValueError(f"TMA needs non-empty dimensions, got shape {shape}")
    if any(not 1 <= e <= 8 for e in element_strides):
        raise ValueError(f"TMA element strides are 1..8, got {element_strides}")
    inner_bytes = box[-1] * itemsize
    if inner_bytes % 16:
        raise ValueError(f"TMA needs the box's innermost extent to be a multiple of 16 bytes, got {inner_bytes}")
    span = SWIZZLE_SPAN[swizzle]
    if span is not None and inner_bytes > span:
        raise ValueError(f"a {swizzle} swizzle allows at most {span} bytes in the box's innermost dimension, "
                         f"got {box[-1]} x {itemsize} = {inner_bytes}")


class TmaDescriptorCache:
    """Descriptors of one kernel parameter (fixed dtype, box, swizzle), encoded once per tensor.

    A descriptor holds the global address and shape, so it is keyed by (address, shape,
    strides); encoding costs a driver call, a hit costs a dict lookup.
    """

    def __init__(self, dtype, box: Sequence[int], *, element_strides: Sequence[int] | None = None,
                 swizzle: str = "none", l2_promotion: str = "128B", oob_fill: str = "zero", max_entries: int = 1024):
        self.dtype, self.box = dtype_name(dtype), tuple(box)
        self.options = {"element_strides": element_strides, "swizzle": swizzle, "l2_promotion": l2_promotion,
                        "oob_fill": oob_fill}
        self.max_entries = max_entries
        self._entries: dict[tuple, bytes] = {}

    def get(self, address: int, shape: Sequence[int], strides: Sequence[int]) -> bytes:
        key = (address, tuple(shape), tuple(strides))
        desc = self._entries.get(key)
        if desc is None:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # tensors come and go; old addresses are rarely seen again
            desc = self._entries[key] = encode_tiled(self.dtype, address, key[1], key[2], self.box, **self.options)
        return desc

    def for_tensor(self, tensor) -> bytes:
        """The descriptor of a torch tensor (its data pointer, shape and strides)."""
        return self.get(tensor.data_ptr(), tensor.shape, tensor.stride())

    def __len__(self) -> int:
        return len(self._entries)
