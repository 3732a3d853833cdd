"""TMA descriptor arguments are validated before the driver is asked (no GPU needed)."""
import pytest

from tilelang.backend.cuda import tma

GOOD = dict(dtype="float16", address=0x10000, shape=(256, 128), strides=(128, 1), box=(64, 64))


def encode(**changes):
    kw = {**GOOD, **changes}
    return tma.encode_tiled(kw.pop("dtype"), kw.pop("address"), kw.pop("shape"), kw.pop("strides"), kw.pop("box"), **kw)


@pytest.mark.parametrize("changes, message", [
    (dict(dtype="complex64"), "TMA cannot move dtype 'complex64'"),
    (dict(address=0x10008), "16-byte aligned global address, got 0x10008"),
    (dict(strides=(1, 256)), "contiguous innermost dimension"),
    (dict(shape=(256, 129), strides=(129, 1)), "dim 0 has 129 x 2 bytes"),
    (dict(box=(64, 512)), "box sizes are 1..256, got 512 in dim 1"),
    (dict(box=(64, 4)), "multiple of 16 bytes, got 8"),
    (dict(box=(64, 128), swizzle="128B"), "128B swizzle allows at most 128 bytes.*got 128 x 2 = 256"),
    (dict(swizzle="256B"), "unknown swizzle '256B'"),
    (dict(shape=(2,) * 6, strides=(8,) * 5 + (1,), box=(2,) * 6), "1 to 5 dimensions"),
    (dict(box=(64,)), "must have the same length"),
    (dict(element_strides=(1, 9)), "element strides are 1..8"),
])
def test_invalid_descriptors_are_explained(changes, message):
    with pytest.raises(ValueError, match=message):
        encode(**changes)


def test_torch_dtype_names_are_accepted():
    assert tma.dtype_name("torch.float16") == "float16"
    assert tma.dtype_name("torch.float8_e4m3fn") == "float8_e4m3"
    assert tma.dtype_name("torch.bfloat16") == "bfloat16"


def test_descriptor_cache_encodes_once_per_tensor(monkeypatch):
    calls = []

    def fake_encode(dtype, address, shape, strides, box, **options):
        calls.append((address, shape))
        return bytes([len(calls)]) * 128

    monkeypatch.setattr(tma, "encode_tiled", fake_encode)
    cache = tma.TmaDescriptorCache("float16", (64, 64), swizzle="128B")
    first = cache.get(0x1000, (128, 64), (64, 1))
    assert cache.get(0x1000, (128, 64), (64, 1)) is first
    assert cache.get(0x2000, (128, 64), (64, 1)) != first
    assert cache.get(0x1000, (256, 64), (64, 1)) != first
    assert calls == [(0x1000, (128, 64)), (0x2000, (128, 64)), (0x1000, (256, 64))]
    assert len(cache) == 3
