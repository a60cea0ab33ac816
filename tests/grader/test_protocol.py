"""The protocol parser trusts nothing: nonce, known cases, plain numeric .npy, size caps."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest

from grader.protocol import decode_array, parse_run

NONCE = "n0nce"
CASES = ["first", "second"]
CAP = 64 * 1024


def npy(array: np.ndarray, allow_pickle: bool = False) -> str:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return base64.b64encode(buf.getvalue()).decode()


def line(**record) -> bytes:
    return json.dumps({"nonce": NONCE, **record}).encode() + b"\n"


def parse(stdout: bytes):
    return parse_run(stdout, NONCE, CASES, max_case_bytes=CAP, max_output_bytes=CAP)


def test_a_full_run_is_parsed():
    """ready, start, case records and done; arrays come back with dtype and shape intact."""
    out = (
        line(event="ready", seconds=0.5)
        + line(event="start", case="first")
        + line(
            case="first",
            status="ok",
            message="",
            seconds=0.01,
            outputs={"y": npy(np.arange(6, dtype=np.int16).reshape(2, 3))},
        )
        + line(event="start", case="second")
        + line(case="second", status="timeout", message="ran past", seconds=3.0)
        + line(event="done", seconds=4.0)
    )
    run = parse(out)
    assert (run.ready, run.done, run.preload_s, run.started) == (True, True, 0.5, CASES)
    y = run.cases["first"].outputs["y"]
    assert y.dtype == np.int16 and y.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert (run.cases["second"].status, run.cases["second"].seconds) == ("timeout", 3.0)
    assert run.running() is None


def test_foreign_lines_are_ignored_and_the_first_record_wins():
    """Wrong nonce, unknown case, junk and non-objects change nothing; duplicates are dropped."""
    out = (
        b"not json\n[1, 2]\n{broken\n"
        + json.dumps({"nonce": "guess", "case": "first", "status": "ok", "outputs": {}}).encode()
        + b"\n"
        + line(case="bonus", status="ok", outputs={})
        + line(case="first", status="error", message="ValueError: x")
        + line(case="first", status="ok", outputs={})
    )
    run = parse(out)
    assert list(run.cases) == ["first"]
    assert run.cases["first"].status == "error"
    assert not run.ready


def test_running_case_is_the_one_started_without_a_record():
    run = parse(line(event="ready") + line(event="start", case="first"))
    assert run.running() == "first"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"status": "passed"}, "the harness sent a malformed record for this case"),
        ({"status": "ok", "message": 3}, "the harness sent a malformed record for this case"),
        ({"status": "ok", "outputs": [1]}, "the case returned no outputs"),
        (
            {"status": "ok", "outputs": {"a/b": npy(np.zeros(1))}},
            "output name 'a/b' is not a valid name",
        ),
        ({"status": "ok", "outputs": {"x": "%%%"}}, "an output is not valid base64"),
        ({"status": "ok", "outputs": {"x": 5}}, "an output is not an encoded array"),
        (
            {"status": "ok", "outputs": {"x": base64.b64encode(b"junk").decode()}},
            "an output is not a valid .npy array",
        ),
    ],
)
def test_malformed_records_become_errors(record, message):
    """Anything malformed makes that case an error with a clear message."""
    run = parse(line(case="first", **record))
    assert (run.cases["first"].status, run.cases["first"].message) == ("error", message)


@pytest.mark.parametrize(
    "array",
    [
        np.array([1 + 2j]),
        np.array(["text"]),
        np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]),
        np.array([b"bytes"]),
        np.array([np.datetime64("2020-01-01")]),
    ],
)
def test_only_bool_int_uint_float_arrays_cross(array):
    """Complex, strings, structured, bytes and datetimes are refused."""
    with pytest.raises(ValueError, match="only bool, integer and float arrays are accepted"):
        decode_array(npy(array), CAP)


def test_object_arrays_are_never_unpickled(tmp_path: Path):
    """A pickled object array whose unpickling would run code is refused, and nothing runs."""
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    payload = npy(np.array([Evil()], dtype=object), allow_pickle=True)
    run = parse(line(case="first", status="ok", outputs={"x": payload}))
    assert run.cases["first"].status == "error"
    assert "only bool, integer and float arrays" in run.cases["first"].message
    assert not marker.exists()
    np.load(io.BytesIO(base64.b64decode(payload)), allow_pickle=True)  # the payload is live
    assert marker.exists()


def lying_npy(shape: tuple[int, ...], data: bytes) -> str:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return base64.b64encode(header.getvalue() + data).decode()


def test_header_that_lies_about_its_size_is_refused_before_allocating():
    """A header claiming 10**12 floats, or more data than is present, is refused unread."""
    with pytest.raises(ValueError, match="an output is larger than 64 KB"):
        decode_array(lying_npy((10**12,), b"\0" * 16), CAP)
    with pytest.raises(ValueError, match="does not match its declared shape"):
        decode_array(lying_npy((100,), b"\0" * 16), CAP)


def test_size_caps_per_output_and_per_case():
    """An output over max_output_bytes, or a record line over max_case_bytes, is an error."""
    big = npy(np.zeros(CAP // 8 + 100))
    stdout = line(case="first", status="ok", outputs={"x": big})
    run = parse_run(stdout, NONCE, CASES, max_case_bytes=4 * CAP, max_output_bytes=CAP)
    assert run.cases["first"].message == "an output is larger than 64 KB"
    many = {f"x{i}": npy(np.zeros(CAP // 32)) for i in range(6)}
    run = parse(line(case="second", status="ok", outputs=many))
    assert run.cases["second"].message == "the case's outputs exceed 64 KB"


def test_bad_seconds_are_dropped():
    run = parse(
        line(case="first", status="error", message="", seconds=-1)
        + line(case="second", status="error", message="", seconds=float("nan"))
    )
    assert run.cases["first"].seconds is None and run.cases["second"].seconds is None
