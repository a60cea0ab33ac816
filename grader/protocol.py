"""The one place that parses what comes out of a sandbox: authenticated JSON lines of .npy data.

The in-container harness (grader/harness.py, the container's pid 1) writes one line per event
on stdout: a JSON object, a space, and the HMAC-SHA256 (hex) of the JSON bytes under the run's
record key, which only the harness holds (never a process that runs submitted code). Every
object carries "seq", 0, 1, 2, ... in order:

    {"seq", "event": "ready", "seconds"}                   preload done, cases start
    {"seq", "event": "start", "case"}                      a case is about to run
    {"seq", "case", "status": ok|raised|error|timeout|killed, "message", "seconds",
     "output", "outputs": {key: base64 .npy},             a case ended
     "where" (timeout only)}
    {"seq", "event": "done", "seconds",                   every case was run; CPU seconds
     "cpu_s", "case_cpu_s"}                                in the container, the cases' share

"raised": the submitted code raised (message: its exception, the student's words); "error":
the harness's own account of a failure. "where": on a time-out, the frames in submitted files
the case was in shortly before its limit ('conv.py line 42 in conv_forward < ...'), taken from
the case's own process: the student's words, like "output". Lines that fail authentication
or come out of order are counted (`rejected`) and otherwise ignored. The parser is total: no
input raises; a bad case record becomes that case's error. Arrays are read with
allow_pickle=False after their header is checked against the bytes actually present, so
nothing here can unpickle or over-allocate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.lib import format as npy_format

STATUSES = ("ok", "raised", "error", "timeout", "killed")
MAC_HEX_CHARS = 64
ALLOWED_KINDS = "biuf"  # bool, signed and unsigned integers, floats
OUTPUT_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
MAX_MESSAGE_CHARS = 1000
MAX_PRINTED_CHARS = 16 * 1024
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
    output: str = ""  # what the case printed (the student's words)
    where: str = ""  # timeout: where the code was (the student's words)


@dataclass
class RunRecords:
    """Everything a run reported, in the order it happened."""

    ready: bool = False
    done: bool = False
    preload_s: float | None = None
    cpu_s: float | None = None  # CPU seconds spent in the container (harness, zygote, cases)
    case_cpu_s: float | None = None  # of which the case processes'
    started: list[str] = field(default_factory=list)
    cases: dict[str, CaseRecord] = field(default_factory=dict)
    rejected: int = 0  # lines that looked like records but failed authentication or order

    def running(self) -> str | None:
        """The case that had started but not reported when the run ended, if any."""
        unfinished = [name for name in self.started if name not in self.cases]
        return unfinished[-1] if unfinished else None


def parse_run(
    stdout: bytes,
    key: bytes,
    case_names: Sequence[str],
    *,
    max_case_bytes: int,
    max_output_bytes: int,
) -> RunRecords:
    """Parse a run's stdout; never raises. Only authenticated lines in sequence count; the
    first record per case wins."""
    known = set(case_names)
    run = RunRecords()
    next_seq = 0
    for line in stdout.splitlines():
        obj = verified_object(line, key)
        seq = obj.get("seq") if obj is not None else None
        if obj is None or type(seq) is not int or seq != next_seq:
            run.rejected += bool(line.strip())
            continue
        next_seq += 1
        if not _apply(run, obj, line, known, max_case_bytes, max_output_bytes):
            run.rejected += 1
    return run


def _apply(run: RunRecords, obj: dict, line: bytes, known: set, max_case: int, max_out: int):
    """Fold one authenticated record into `run`; False when it is not a record we expect."""
    event, case = obj.get("event"), obj.get("case")
    case = case if isinstance(case, str) and case in known else None
    if event == "ready" and not run.ready:
        run.ready = True
        run.preload_s = _seconds(obj.get("seconds"))
    elif event == "done" and not run.done:
        run.done = True
        run.cpu_s = _seconds(obj.get("cpu_s"))
        run.case_cpu_s = _seconds(obj.get("case_cpu_s"))
    elif event == "start" and case is not None and case not in run.started:
        run.started.append(case)
    elif event is None and case is not None and case not in run.cases:
        if len(line) > max_case:
            run.cases[case] = CaseRecord(
                "error", f"the case's outputs exceed {max_case // 1024} KB"
            )
        else:
            run.cases[case] = parse_case(obj, max_out)
    else:
        return False
    return True


def verified_object(line: bytes, key: bytes) -> dict | None:
    """The JSON object of `<json> <hmac hex>` if the MAC is right, else None."""
    payload, _, mac = line.strip().rpartition(b" ")
    if len(mac) != MAC_HEX_CHARS or not payload.startswith(b"{"):
        return None
    want = hmac.new(key, payload, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(want, mac):
        return None
    return _json_object(payload)


def parse_case(obj: dict, max_output_bytes: int) -> CaseRecord:
    """Turn one case record into a CaseRecord; a malformed one becomes an 'error' record."""
    try:
        return _parse_case(obj, max_output_bytes)
    except Exception:  # belt and braces: the checks below are meant to leave nothing to raise
        return CaseRecord("error", "the harness sent a malformed record for this case")


def _parse_case(obj: dict, max_output_bytes: int) -> CaseRecord:
    status = obj.get("status")
    message = obj.get("message", "")
    printed = obj.get("output", "")
    if (
        not isinstance(status, str)
        or status not in STATUSES
        or not isinstance(message, str)
        or not isinstance(printed, str)
    ):
        return CaseRecord("error", "the harness sent a malformed record for this case")
    record = CaseRecord(status, message[:MAX_MESSAGE_CHARS], _seconds(obj.get("seconds")))
    record.output = printed[-MAX_PRINTED_CHARS:]
    where = obj.get("where", "")
    if status == "timeout" and isinstance(where, str):
        record.where = where[:MAX_MESSAGE_CHARS]
    if status != "ok":
        return record
    outputs = obj.get("outputs")
    if not isinstance(outputs, dict):
        return CaseRecord("error", "the case returned no outputs", record.seconds, output=printed)
    try:
        record.outputs = {
            _output_key(k): decode_array(v, max_output_bytes) for k, v in outputs.items()
        }
    except ProtocolError as exc:
        return CaseRecord("error", str(exc), record.seconds, output=record.output)
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
    except (ValueError, TypeError, SyntaxError, OverflowError, MemoryError, RecursionError) as exc:
        raise ProtocolError("an output is not a valid .npy array") from exc
    check_dtype(dtype)
    if len(shape) > MAX_NDIM:
        raise ProtocolError(f"an output has {len(shape)} dimensions (at most {MAX_NDIM})")
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ProtocolError("an output's shape is not a list of sizes")
    expected = math.prod(shape) * dtype.itemsize
    if expected > max_bytes:
        raise ProtocolError(f"an output is larger than {max_bytes // 1024} KB")
    if len(raw) - stream.tell() != expected:
        raise ProtocolError("an output's data does not match its declared shape")
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, TypeError, OSError, EOFError) as exc:
        raise ProtocolError("an output is not a valid .npy array") from exc


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
