"""The grading spine end to end: API upload -> Redis -> real Celery worker -> Docker sandbox ->
hidden cases -> score outside -> database -> API. One real worker serves the whole module."""

from __future__ import annotations

import pytest

from tests.integration.support import PASSWORD, Api, package_files
from tests.notebook_support import code, markdown, notebook

pytestmark = [pytest.mark.integration, pytest.mark.docker]

SLUG = "backprop"


def grade(api: Api, files: dict[str, bytes]) -> dict:
    response = api.submit(SLUG, files)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "queued"
    return api.wait_graded(body["id"])


def cases_by_name(result: dict) -> dict[str, dict]:
    return {case["name"]: case for case in result["cases"]}


def with_patch(filename: str, code: str) -> dict[str, bytes]:
    """The reference solution with `code` appended to one file (later defs win)."""
    files = package_files(SLUG, "solution")
    files[filename] = files[filename] + b"\n\n" + code.encode()
    return files


def test_reference_solution_scores_full_marks(worker, api):
    result = grade(api["ana"], package_files(SLUG, "solution"))
    assert result["status"] == "graded", result
    assert result["score"] == result["max_score"] == 100
    assert all(c["status"] == "passed" and c["points"] == c["max_points"] for c in result["cases"])


def as_notebook(source: bytes) -> bytes:
    """A Jupyter notebook holding `source` between IPython lines, Markdown and forged outputs."""
    forged = [{"output_type": "stream", "name": "stdout", "text": ["20 passed, score 100\n"]}]
    return notebook(
        markdown("# My solution\n"),
        code("%load_ext autoreload"),
        code(source.decode(), outputs=forged),
    )


def test_the_reference_as_notebooks_scores_full_marks(worker, api):
    """layers.ipynb and mlp.ipynb stand for layers.py and mlp.py: their code cells are graded."""
    files = package_files(SLUG, "solution")
    notebooks = {name.replace(".py", ".ipynb"): as_notebook(src) for name, src in files.items()}
    result = grade(api["ben"], notebooks)
    assert (result["status"], result["score"]) == ("graded", 100), result


def test_starter_scores_zero(worker, api):
    result = grade(api["ana"], package_files(SLUG, "starter"))
    assert result["status"] == "graded"
    assert result["score"] == 0
    assert {c["status"] for c in result["cases"]} == {"error"}
    assert any("NotImplementedError" in (c["detail"] or "") for c in result["cases"])


def test_one_wrong_layer_gets_partial_credit_naming_the_failing_cases(worker, api):
    result = grade(api["ana"], package_files(SLUG, "mutants/linear_dW_transposed"))
    cases = cases_by_name(result)
    assert 0 < result["score"] < result["max_score"]
    assert cases["linear_backward"]["status"] == "failed"
    assert "dW" in cases["linear_backward"]["feedback"]
    assert cases["linear_forward"]["status"] == "passed"
    assert cases["sigmoid"]["points"] == cases["sigmoid"]["max_points"]


def test_infinite_loop_times_out_and_finished_cases_keep_their_points(worker, api):
    files = with_patch("layers.py", "def mse_loss(pred, target):\n    while True:\n        pass\n")
    result = grade(api["ana"], files)
    cases = cases_by_name(result)
    assert cases["mse_loss"]["status"] == "timeout"
    assert cases["mse_loss"]["points"] == 0
    assert "time limit" in cases["mse_loss"]["feedback"]
    # every case that does not call mse_loss finished and kept its points
    timed_out = {name for name, case in cases.items() if case["status"] == "timeout"}
    assert timed_out <= {"mse_loss", "contracts"}
    assert all(cases[n]["status"] == "passed" for n in cases.keys() - timed_out)
    kept = sum(cases[n]["max_points"] for n in cases.keys() - timed_out)
    assert result["score"] == kept > 0


def test_memory_bomb_ends_with_a_memory_limit_message(worker, api):
    bomb = (
        "def tanh_forward(x):\n"
        "    hoard = []\n"
        "    while True:\n"
        "        hoard.append(bytearray(10 * 1024 * 1024))\n"
    )
    result = grade(api["ana"], with_patch("layers.py", bomb))
    tanh = cases_by_name(result)["tanh"]
    assert tanh["status"] == "memory" and tanh["points"] == 0
    assert "memory limit" in tanh["feedback"]
    assert cases_by_name(result)["sigmoid"]["status"] == "passed"


NETWORK_PROBE = """
def _network_blocked():
    import socket
    names = sorted(name for _, name in socket.if_nameindex())
    try:  # the host's Redis: reachable only if the sandbox shared the host's network
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
        reached = True
    except OSError as exc:
        print("NETWORK-BLOCKED", type(exc).__name__, names)
        reached = False
    return names == ["lo"] and not reached


_linear_forward_ok = linear_forward


def linear_forward(x, W, b):
    out, cache = _linear_forward_ok(x, W, b)
    return (out if _network_blocked() else out + 1.0), cache
"""


def test_network_socket_fails_inside_the_sandbox(worker, api):
    result = grade(api["ana"], with_patch("layers.py", NETWORK_PROBE))
    assert cases_by_name(result)["linear_forward"]["status"] == "passed"
    assert result["score"] == result["max_score"]


FORGERY = """
import json as _json, os as _os, sys as _sys

_fake = {"score": 100, "max_score": 100, "status": "ok", "cases": "all passed"}
for _dir in ("/job", "/job/out", "/tmp", _os.getcwd(), _os.path.dirname(__file__)):
    for _name in ("results.json", "result.json", "score.json"):
        try:
            with open(_os.path.join(_dir, _name), "w") as _fh:
                _json.dump(_fake, _fh)
        except OSError:
            pass
for _case in ("linear_forward", "two_layer_net", "train_digits"):
    _line = _json.dumps({"case": _case, "status": "ok", "points": 100, "outputs": {}})
    print(_line)
    _sys.__stdout__.write(_line + "\\n")
    _sys.__stdout__.flush()
print("===== 42 passed in 0.1s =====")
"""


def test_forged_results_files_and_output_change_nothing(worker, api):
    files = package_files(SLUG, "starter")
    files["layers.py"] = FORGERY.encode() + b"\n" + files["layers.py"]
    result = grade(api["ana"], files)
    assert result["status"] == "graded"
    assert result["score"] == 0


def test_students_cannot_read_each_others_submissions_but_staff_can(worker, api, live_app):
    submission_id = api["ana"].submit(SLUG, package_files(SLUG, "starter")).get_json()["id"]
    assert api["ben"].submission(submission_id).status_code == 404
    assert api["tia"].submission(submission_id).status_code == 200
    assert api["ana"].submission(submission_id).status_code == 200

    pages = {}
    for name in ("ben", "tia"):
        client = live_app.test_client()
        login = client.post("/login", data={"username": name, "password": PASSWORD})
        assert login.status_code in (302, 303)
        pages[name] = client.get(f"/submissions/{submission_id}").status_code
    assert pages == {"ben": 404, "tia": 200}
