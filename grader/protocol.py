"""The one place that parses what comes out of a sandbox: nonce-bound JSON lines of .npy data.

The in-container harness (grader/harness.py) writes one JSON object per line on stdout:

    {"nonce", "event": "ready", "seconds"}                 preload done, cases start
    {"nonce", "event": "start", "case"}                    a case is about to run
    {"nonce", "case", "status": ok|error|timeout|killed, "message", "seconds",
     "outputs": {key: base64 .npy}}                        a case ended
    {"nonce", "event": "done", "seconds"}                  every case was run

Anything else on stdout is ignored. Arrays are read with allow_pickle=False after their header
is checked against the bytes actually present, so nothing here can unpickle or over-allocate.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.lib import format as npy_format

STATUSES = ("ok", "error", "timeout", "killed")
ALLOWED_KINDS = "biuf"  # bool, signed and unsigned integers, floats
OUTPUT_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
MAX_MESSAGE_CHARS = 1000
MAX_NDIM = 8


class ProtocolError(ValueError):
    """One output or record is malformed; the message says why (shown to the student)."""


@dataclass
class CaseRecord:
    """What the harness reported for one case (outputs only when status is 'ok')."""

    status: str
    message: str = ""
    seconds: float | None = None
    outputs: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class RunRecords:
    """Everything a run reported, in the order it happened."""

    ready: bool = False
    done: bool = False
    preload_s: float | None = None
    started: list[str] = field(default_factory=list)
    cases: dict[str, CaseRecord] = field(default_factory=dict)

    def running(self) -> str | None:
        """The case that had started but not reported when the run ended, if any."""
        unfinished = [name for name in self.started if name not in self.cases]
        return unfinished[-1] if unfinished else None


def parse_run(
    stdout: bytes,
    nonce: str,
    case_names: Sequence[str],
    *,
    max_case_bytes: int,
    max_output_bytes: int,
) -> RunRecords:
    """Parse a run's stdout; foreign lines are ignored, the first record per case wins."""
    known = set(case_names)
    run = RunRecords()
    for line in stdout.splitlines():
        obj = _json_object(line)
        if obj is None or obj.get("nonce") != nonce:
            continue
        event, case = obj.get("event"), obj.get("case")
        if event == "ready":
            run.ready = True
            run.preload_s = _seconds(obj.get("seconds"))
        elif event == "done":
            run.done = True
        elif event == "start" and case in known and case not in run.started:
            run.started.append(case)
        elif event is None and case in known and case not in run.cases:
            too_big = len(line) > max_case_bytes
            run.cases[case] = (
                CaseRecord("error", f"the case's outputs exceed {max_case_bytes // 1024} KB")
                if too_big
                else parse_case(obj, max_output_bytes)
            )
    return run


def parse_case(obj: dict, max_output_bytes: int) -> CaseRecord:
    """Turn one case record into a CaseRecord; a malformed one becomes an 'error' record."""
    status = obj.get("status")
    message = obj.get("message", "")
    if status not in STATUSES or not isinstance(message, str):
        return CaseRecord("error", "the harness sent a malformed record for this case")
    record = CaseRecord(status, message[:MAX_MESSAGE_CHARS], _seconds(obj.get("seconds")))
    if status != "ok":
        return record
    outputs = obj.get("outputs")
    if not isinstance(outputs, dict):
        return CaseRecord("error", "the case returned no outputs", record.seconds)
    try:
        record.outputs = {
            _output_key(k): decode_array(v, max_output_bytes) for k, v in outputs.items()
        }
    except ProtocolError as exc:
        return CaseRecord("error", str(exc), record.seconds)
    return record


def decode_array(b64: object, max_bytes: int) -> np.ndarray:
    """Decode a base64 .npy string into a plain numeric array, or raise ProtocolError."""
    if not isinstance(b64, str):
        raise ProtocolError("an output is not an encoded array")
    if len(b64) > (max_bytes * 4) // 3 + 4096:
        raise ProtocolError(f"an output is larger than {max_bytes // 1024} KB")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError("an output is not valid base64") from exc
    return load_npy(raw, max_bytes)


def load_npy(raw: bytes, max_bytes: int) -> np.ndarray:
    """Read .npy bytes with allow_pickle=False after checking header, dtype and length."""
    stream = io.BytesIO(raw)
    try:
        version = npy_format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy version {version}")
        read_header = (
            npy_format.read_array_header_1_0
            if version == (1, 0)
            else npy_format.read_array_header_2_0
        )
        shape, _fortran, dtype = read_header(stream)
    except (ValueError, TypeError, SyntaxError) as exc:
        raise ProtocolError("an output is not a valid .npy array") from exc
    check_dtype(dtype)
    if len(shape) > MAX_NDIM:
        raise ProtocolError(f"an output has {len(shape)} dimensions (at most {MAX_NDIM})")
    expected = math.prod(shape) * dtype.itemsize
    if expected > max_bytes:
        raise ProtocolError(f"an output is larger than {max_bytes // 1024} KB")
    if len(raw) - stream.tell() != expected:
        raise ProtocolError("an output's data does not match its declared shape")
    return np.load(io.BytesIO(raw), allow_pickle=False)


def check_dtype(dtype: np.dtype) -> None:
    """Only plain bool/int/uint/float arrays may cross the sandbox boundary."""
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in ALLOWED_KINDS:
        raise ProtocolError(
            f"an output has dtype {dtype.str!r}: only bool, integer and float arrays are accepted"
        )


def _output_key(key: object) -> str:
    if not isinstance(key, str) or not OUTPUT_KEY_RE.match(key):
        raise ProtocolError(f"output name {str(key)[:40]!r} is not a valid name")
    return key


def _json_object(line: bytes) -> dict | None:
    line = line.strip()
    if not line.startswith(b"{"):
        return None
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _seconds(value: object) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok and value >= 0 else None
