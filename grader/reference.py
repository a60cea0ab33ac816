"""Reference outputs: what the solution returns for each case, cached per suite version.

Key: suite sha256, seed, device kind and harness digest (cache_key). Values are npz bytes
read back with allow_pickle=False; they live on the worker only and never enter a sandbox.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Protocol

import numpy as np

CaseOutputs = dict[str, dict[str, np.ndarray]]  # case name -> output name -> array
INDEX_KEY = "__index__"


class ReferenceCache(Protocol):
    """Bytes by key; a miss is None. Implementations must tolerate concurrent workers."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


class MemoryCache:
    """In-process cache (tests, single worker)."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._data.get(key)

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._data[key] = data


class DirectoryCache:
    """One file per key under `path`, written atomically (safe across worker processes)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _file(self, key: str) -> Path:
        return self.path / (hashlib.sha256(key.encode()).hexdigest() + ".npz")

    def get(self, key: str) -> bytes | None:
        try:
            return self._file(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, data: bytes) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self._file(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# A change to the harness can change what outputs look like (shapes, dtypes): cached
# reference outputs from an older harness must not be compared with a newer one's.
HARNESS_DIGEST = hashlib.sha256((Path(__file__).with_name("harness.py")).read_bytes()).hexdigest()[
    :12
]


def cache_key(package_sha256: str, seed: int, device_kind: str) -> str:
    """Names one reference run: suite version, seed, device and the harness that produced it."""
    return f"{package_sha256}:{seed}:{device_kind}:h{HARNESS_DIGEST}"


def serialize_outputs(outputs: CaseOutputs) -> bytes:
    """npz bytes: one array per (case, output) plus a JSON index (cases may have no outputs)."""
    index = {case: sorted(arrays) for case, arrays in outputs.items()}
    arrays = {INDEX_KEY: np.frombuffer(json.dumps(index).encode(), np.uint8)}
    for case, outs in outputs.items():
        for n, name in enumerate(sorted(outs)):
            arrays[f"{case}.{n}"] = outs[name]
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def deserialize_outputs(data: bytes) -> CaseOutputs:
    """Inverse of serialize_outputs; raises ValueError on anything malformed."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            index = json.loads(npz[INDEX_KEY].tobytes())
            return {
                case: {name: npz[f"{case}.{n}"] for n, name in enumerate(names)}
                for case, names in index.items()
            }
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable reference outputs: {exc}") from exc
