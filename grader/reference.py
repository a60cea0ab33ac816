"""Draws and reference outputs: every grading run gets fresh inputs, and what the solution
returns for them.

A Draw is one run's randomness: `seed` (the cases' inputs; it enters the sandbox, and is worth
nothing once the run is over) and `secret` (hidden/rundata.py's per-run variation and
held-out data; it never enters any sandbox). A draw is used by exactly one grading run.

Reference outputs for a draw come from running the solution (trusted code only) in its own
sandbox. A ReferenceBank holds draws whose reference outputs were computed ahead of time,
while the queue is idle; `take` hands each out once. When the bank is empty the engine
computes the reference concurrently with the student's run. Entries are npz bytes read back
with allow_pickle=False; they live on the worker side only and never enter a sandbox.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import threading
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

CaseOutputs = dict[str, dict[str, np.ndarray]]  # case name -> output name -> array
INDEX_KEY = "__index__"
SEED_BITS = 63  # fits a signed 64-bit column


@dataclass(frozen=True)
class Draw:
    seed: int
    secret: int

    @classmethod
    def fresh(cls) -> Draw:
        return cls(secrets.randbits(SEED_BITS), secrets.randbits(SEED_BITS))

    @classmethod
    def of_seed(cls, seed: int) -> Draw:
        """The draw a self-check seed stands for: its secret is derived from the seed, so one
        printed number replays the whole draw. Self-checks only: a grading run's draw is fresh
        (a derived secret would be no secret to whoever knew the seed)."""
        digest = hashlib.blake2b(str(seed).encode(), person=b"dlgrader-draw").digest()
        return cls(seed, int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS))


@dataclass(frozen=True)
class Reference:
    """A draw and the solution's outputs for it (only the cases that need a reference)."""

    draw: Draw
    outputs: CaseOutputs


class ReferenceBank(Protocol):
    """Precomputed references by key; `take` removes and returns one entry (None: empty).
    Implementations must hand each entry to one taker only, across worker processes."""

    def take(self, key: str) -> bytes | None: ...

    def add(self, key: str, data: bytes) -> None: ...


class MemoryBank:
    """In-process bank (tests, the self-check, a single worker)."""

    def __init__(self) -> None:
        self._entries: dict[str, list[bytes]] = defaultdict(list)
        self._lock = threading.Lock()

    def take(self, key: str) -> bytes | None:
        with self._lock:
            entries = self._entries.get(key)
            return entries.pop(0) if entries else None

    def add(self, key: str, data: bytes) -> None:
        with self._lock:
            self._entries[key].append(data)

    def size(self, key: str) -> int:
        with self._lock:
            return len(self._entries.get(key, ()))


# A change to the harness can change what outputs look like (shapes, dtypes): references
# from an older harness must not be compared with a newer one's.
HARNESS_DIGEST = hashlib.sha256(Path(__file__).with_name("harness.py").read_bytes()).hexdigest()[
    :12
]


def bank_key(package_sha256: str, device_kind: str) -> str:
    """Names the references one suite version needs: suite, device kind, harness."""
    return f"{package_sha256}:{device_kind}:h{HARNESS_DIGEST}"


def serialize_reference(reference: Reference) -> bytes:
    """npz bytes: one array per (case, output) plus a JSON index holding the draw."""
    index = {
        "seed": reference.draw.seed,
        "secret": reference.draw.secret,
        "cases": {case: sorted(arrays) for case, arrays in reference.outputs.items()},
    }
    arrays = {INDEX_KEY: np.frombuffer(json.dumps(index).encode(), np.uint8)}
    for case, outs in reference.outputs.items():
        for n, name in enumerate(sorted(outs)):
            arrays[f"{case}.{n}"] = outs[name]
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def deserialize_reference(data: bytes) -> Reference:
    """Inverse of serialize_reference; raises ValueError on anything malformed."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            index = json.loads(npz[INDEX_KEY].tobytes())
            outputs = {
                case: {name: npz[f"{case}.{n}"] for n, name in enumerate(names)}
                for case, names in index["cases"].items()
            }
            return Reference(Draw(int(index["seed"]), int(index["secret"])), outputs)
    except (OSError, EOFError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"unreadable reference outputs: {exc}") from exc
