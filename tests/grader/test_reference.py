"""Reference outputs round-trip through npz (no pickle) and both caches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.reference import (
    DirectoryCache,
    MemoryCache,
    cache_key,
    deserialize_outputs,
    serialize_outputs,
)

OUTPUTS = {
    "linear": {"out": np.arange(6.0).reshape(2, 3), "mask": np.array([True, False])},
    "empty": {},
    "scalar": {"loss": np.array(0.25, dtype=np.float32)},
}


def test_outputs_round_trip():
    """Every case, even one without outputs, comes back with identical arrays and dtypes."""
    back = deserialize_outputs(serialize_outputs(OUTPUTS))
    assert set(back) == set(OUTPUTS) and back["empty"] == {}
    for case, arrays in OUTPUTS.items():
        for name, array in arrays.items():
            assert back[case][name].dtype == array.dtype
            np.testing.assert_array_equal(back[case][name], array)


def test_corrupt_or_pickled_data_is_refused():
    """Garbage and object arrays (which would need pickle) raise ValueError."""
    with pytest.raises(ValueError):
        deserialize_outputs(b"not an npz")
    with pytest.raises(ValueError):
        deserialize_outputs(serialize_outputs({"c": {"x": np.array([{}], dtype=object)}}))


@pytest.mark.parametrize("make_cache", [lambda tmp: MemoryCache(), lambda tmp: DirectoryCache(tmp)])
def test_caches_store_by_key(make_cache, tmp_path: Path):
    cache = make_cache(tmp_path / "refs")
    key = cache_key("ab" * 32, 7, "cpu")
    assert key.startswith(f"{'ab' * 32}:7:cpu:h")  # names the harness that produced it
    assert cache.get(key) is None
    cache.put(key, b"one")
    cache.put(key, b"two")
    assert cache.get(key) == b"two"
    assert cache.get(cache_key("ab" * 32, 7, "cuda")) is None


def test_directory_cache_leaves_no_temporary_files(tmp_path: Path):
    cache = DirectoryCache(tmp_path)
    cache.put("k", b"data")
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]
