"""The protocol parser trusts nothing: only lines authenticated with the run's key, in
sequence, for known cases, carrying plain numeric .npy; and no input makes it raise."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.protocol import CaseRecord, RunRecords, decode_array, load_npy, parse_run

KEY = bytes(range(32))
CASES = ["first", "second"]
CAP = 64 * 1024


def npy(array: np.ndarray, allow_pickle: bool = False) -> str:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return base64.b64encode(buf.getvalue()).decode()


def signed(payload: bytes, key: bytes = KEY) -> bytes:
    return payload + b" " + hmac.new(key, payload, hashlib.sha256).hexdigest().encode() + b"\n"


class Stream:
    """Builds a record stream the way the harness does: seq 0, 1, 2, ... then the MAC."""

    def __init__(self, key: bytes = KEY) -> None:
        self.key, self.seq, self.out = key, 0, b""

    def add(self, **record) -> Stream:
        self.out += signed(json.dumps({"seq": self.seq, **record}).encode(), self.key)
        self.seq += 1
        return self


def parse(stdout: bytes) -> RunRecords:
    return parse_run(stdout, KEY, CASES, max_case_bytes=CAP, max_output_bytes=CAP)


def test_a_full_run_is_parsed():
    """ready, start, case records and done; arrays come back with dtype and shape intact."""
    out = (
        Stream()
        .add(event="ready", seconds=0.5)
        .add(event="start", case="first")
        .add(
            case="first",
            status="ok",
            message="",
            seconds=0.01,
            output="hello\n",
            outputs={"y": npy(np.arange(6, dtype=np.int16).reshape(2, 3))},
        )
        .add(event="start", case="second")
        .add(case="second", status="timeout", message="ran past", seconds=3.0, where="a.py line 2")
        .add(event="done", seconds=4.0)
        .out
    )
    run = parse(out)
    assert (run.cases["second"].where, run.cases["first"].where) == ("a.py line 2", "")
    assert (run.ready, run.done, run.preload_s, run.started) == (True, True, 0.5, CASES)
    y = run.cases["first"].outputs["y"]
    assert y.dtype == np.int16 and y.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert run.cases["first"].output == "hello\n"
    assert (run.cases["second"].status, run.cases["second"].seconds) == ("timeout", 3.0)
    assert run.running() is None and run.rejected == 0


def test_forged_lines_count_for_nothing():
    """Unsigned, wrongly keyed, replayed and out-of-order lines are rejected, and counted."""
    honest = Stream().add(event="ready").add(event="start", case="first")
    first_ok = json.dumps({"seq": 2, "case": "first", "status": "ok", "outputs": {}}).encode()
    out = (
        b"not json\n[1, 2]\n{broken\n"
        + first_ok
        + b"\n"  # no MAC at all
        + signed(first_ok, key=b"guessed key")  # a MAC under another key
        + honest.out.splitlines(keepends=True)[0]  # a replayed genuine line (seq 0)
        + signed(json.dumps({"seq": 9, "case": "first", "status": "ok"}).encode())  # a gap
    )
    honest.add(case="first", status="raised", message="ValueError: x")
    run = parse(honest.out.replace(b"\n", b"\n" + out, 1))
    assert run.ready and run.cases["first"].status == "raised"
    assert run.rejected == 7


def test_unknown_cases_and_duplicates_change_nothing():
    out = (
        Stream()
        .add(case="bonus", status="ok", outputs={})
        .add(case="first", status="raised", message="ValueError: x")
        .add(case="first", status="ok", outputs={})
        .out
    )
    run = parse(out)
    assert list(run.cases) == ["first"] and run.cases["first"].status == "raised"
    assert not run.ready and run.rejected == 2


def test_running_case_is_the_one_started_without_a_record():
    run = parse(Stream().add(event="ready").add(event="start", case="first").out)
    assert run.running() == "first"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"status": "passed"}, "the harness sent a malformed record for this case"),
        ({"status": "ok", "message": 3}, "the harness sent a malformed record for this case"),
        ({"status": ["ok"]}, "the harness sent a malformed record for this case"),
        ({"status": "ok", "output": 7}, "the harness sent a malformed record for this case"),
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
    run = parse(Stream().add(case="first", **record).out)
    assert (run.cases["first"].status, run.cases["first"].message) == ("error", message)


def test_a_record_whose_case_is_a_list_is_ignored_not_a_crash():
    """Finding 3 of the integrity issue: `case: [...]` raised TypeError inside the parser."""
    run = parse(Stream().add(event="start", case=["first"]).add(case=["x"], status="ok").out)
    assert run.started == [] and run.cases == {} and run.rejected == 2


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
    run = parse(Stream().add(case="first", status="ok", outputs={"x": payload}).out)
    assert run.cases["first"].status == "error"
    assert "only bool, integer and float arrays" in run.cases["first"].message
    assert not marker.exists()
    np.load(io.BytesIO(base64.b64decode(payload)), allow_pickle=True)  # the payload is live
    assert marker.exists()


def npy_header(shape: object, descr: str = "<f8") -> bytes:
    """A version 1.0 header claiming `shape` (written by hand: numpy refuses bad shapes)."""
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


@pytest.mark.parametrize(
    ("shape", "data", "message"),
    [
        ((10**12,), b"\0" * 16, "larger than 64 KB"),
        ((100,), b"\0" * 16, "does not match its declared shape"),
        ((-1, 2), b"\0" * 16, "not a list of sizes"),
        ((-2, -1), b"\0" * 16, "not a list of sizes"),  # the product is positive: 2 floats
        ((2**64, 2**64), b"", "larger than 64 KB"),
        (("a",), b"", "not a valid .npy array"),
    ],
)
def test_a_header_that_lies_is_refused_before_allocating(shape, data, message):
    """Finding 3: a negative or huge shape in an .npy header is that output's error."""
    with pytest.raises(ValueError, match=message):
        load_npy(npy_header(shape) + data, CAP)


def test_size_caps_per_output_and_per_case():
    """An output over max_output_bytes, or a record line over max_case_bytes, is an error."""
    big = npy(np.zeros(CAP // 8 + 100))
    stdout = Stream().add(case="first", status="ok", outputs={"x": big}).out
    run = parse_run(stdout, KEY, CASES, max_case_bytes=4 * CAP, max_output_bytes=CAP)
    assert run.cases["first"].message == "an output is larger than 64 KB"
    many = {f"x{i}": npy(np.zeros(CAP // 32)) for i in range(6)}
    run = parse(Stream().add(case="second", status="ok", outputs=many).out)
    assert run.cases["second"].message == "the case's outputs exceed 64 KB"


def test_bad_seconds_are_dropped():
    run = parse(
        Stream()
        .add(case="first", status="error", message="", seconds=-1)
        .add(case="second", status="error", message="", seconds=float("nan"))
        .out
    )
    assert run.cases["first"].seconds is None and run.cases["second"].seconds is None


# ---------------------------------------------------------------- properties: nothing raises

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "event": st.sampled_from(["ready", "start", "done"]) | JSON,
        "case": st.sampled_from(CASES) | JSON,
        "status": st.sampled_from(["ok", "raised", "error", "timeout", "killed"]) | JSON,
        "message": st.text(max_size=30) | JSON,
        "seconds": JSON,
        "output": st.text(max_size=30) | JSON,
        "outputs": st.dictionaries(st.text(max_size=10), JSON | st.text(max_size=40)) | JSON,
    },
)
SLOW_OK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_shape(run: RunRecords) -> None:
    """Whatever came in, what comes out is well formed."""
    assert isinstance(run.rejected, int) and set(run.cases) <= set(CASES)
    for record in run.cases.values():
        assert isinstance(record, CaseRecord) and isinstance(record.message, str)
        assert all(isinstance(a, np.ndarray) for a in record.outputs.values())


@SLOW_OK
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes):
    check_shape(parse(data))


@SLOW_OK
@given(st.lists(FIELDS, max_size=6))
def test_arbitrary_authenticated_records_never_raise(records: list[dict]):
    """Even records that pass authentication (as if the harness were subverted) cannot make
    the parser raise: each is a result, a case's error, or ignored."""
    stream = Stream()
    for record in records:
        try:
            stream.add(**record)
        except ValueError:  # floats JSON cannot encode strictly are fine to skip
            continue
    check_shape(parse(stream.out))


@SLOW_OK
@given(
    st.binary(max_size=300),
    st.one_of(
        st.tuples(st.integers(-(2**70), 2**70)),
        st.lists(st.integers(-(2**40), 2**40), max_size=9).map(tuple),
        JSON,
    ),
    st.sampled_from(["<f8", "<i4", "|b1", "<c16", "|O", "<U3", "V8", "foo"]),
)
def test_arbitrary_npy_headers_and_data_never_raise_anything_but_protocol_errors(
    data: bytes, shape: object, descr: str
):
    raw = npy_header(shape, descr) + data
    encoded = base64.b64encode(raw).decode()
    run = parse(Stream().add(case="first", status="ok", outputs={"x": encoded}).out)
    check_shape(run)
    assert run.cases["first"].status in ("ok", "error")


@pytest.mark.parametrize(
    "status, where, expected",
    [
        ("timeout", "x" * 5000, "x" * 1000),  # bounded like a message
        ("timeout", ["a.py line 1"], ""),  # not text: dropped, the record stays
        ("raised", "a.py line 1", ""),  # only a time-out says where the code was
    ],
)
def test_where_is_kept_only_as_bounded_text_of_a_time_out(status, where, expected):
    out = Stream().add(event="ready", seconds=0.1).add(case="first", status=status, where=where)
    record = parse(out.out).cases["first"]
    assert (record.status, record.where) == (status, expected)
