"""Upload validation: every hostile or mistaken upload is refused with a message, as a whole."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest

from grader.package import parse_config
from tests.notebook_support import code, markdown, notebook
from webapp.uploads import UploadError, validate_upload

CONFIG = parse_config(
    {
        "slug": "toy",
        "title": "Toy",
        "files": ["layers.py", "mlp.py"],
        "max_file_kb": 4,
        "forbidden_imports": ["torch"],
        "cases": [{"name": "c1", "points": 1}],
    }
)
GOOD = [("layers.py", b"def f(x):\n    return x\n"), ("mlp.py", b"import numpy as np\n")]


def make_zip(entries: list[tuple[str, bytes]], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def refused(uploads: list[tuple[str, bytes]]) -> str:
    with pytest.raises(UploadError) as info:
        validate_upload(uploads, CONFIG)
    return str(info.value)


def test_exact_files_are_accepted_in_declared_order():
    files = validate_upload(list(reversed(GOOD)), CONFIG)
    assert list(files) == ["layers.py", "mlp.py"]
    assert files["layers.py"] == GOOD[0][1]


def test_nothing_chosen_lists_the_expected_files():
    assert "layers.py, mlp.py" in refused([("", b"")])


def test_missing_and_extra_files_are_named():
    assert "Missing: mlp.py" in refused(GOOD[:1])
    assert "Not part of this assignment: conftest.py" in refused(GOOD + [("conftest.py", b"x=1")])


def test_wrong_case_name_is_an_extra_file():
    assert "Layers.py" in refused([("Layers.py", GOOD[0][1]), GOOD[1]])


def test_folder_names_and_duplicates_are_refused():
    assert "folders" in refused([("../layers.py", b"x=1"), GOOD[1]])
    assert "twice" in refused([GOOD[0], GOOD[0], GOOD[1]])


def test_size_cap_and_empty_file():
    assert "limit is 4 KiB" in refused([("layers.py", b"#" * 5000), GOOD[1]])
    assert "empty" in refused([("layers.py", b"  \n"), GOOD[1]])


def test_non_utf8_and_nul_bytes():
    assert "not UTF-8" in refused([("layers.py", b"x = '\xff'\n"), GOOD[1]])
    assert "NUL" in refused([("layers.py", b"x = 1\x00\n"), GOOD[1]])


def test_forbidden_import_is_refused_with_file_and_line():
    message = refused([("layers.py", b"import numpy\nimport torch\n"), GOOD[1]])
    assert "layers.py:2" in message and "torch" in message


def test_zip_with_files_at_top_or_in_one_folder_is_accepted():
    assert list(validate_upload([("sub.zip", make_zip(GOOD))], CONFIG)) == ["layers.py", "mlp.py"]
    nested = [(f"hw1/{name}", data) for name, data in GOOD] + [("__MACOSX/._x", b"junk")]
    assert validate_upload([("sub.zip", make_zip(nested))], CONFIG)["mlp.py"] == GOOD[1][1]


def test_zip_slip_absolute_paths_and_symlinks_are_refused():
    assert "unsafe path" in refused([("s.zip", make_zip([("../../layers.py", b"x=1")]))])
    assert "unsafe path" in refused([("s.zip", make_zip([("/etc/layers.py", b"x=1")]))])
    assert "symbolic link" in refused([("s.zip", make_zip(GOOD, symlink="layers2.py"))])


def test_zip_bomb_stops_at_the_cap():
    bomb = make_zip([("layers.py", b"#" * (50 * 1024 * 1024)), GOOD[1]])
    assert len(bomb) < 200_000  # tiny on the wire
    assert "expands past the size limit" in refused([("s.zip", bomb)])


def test_damaged_zip_and_too_many_entries():
    assert "damaged" in refused([("s.zip", b"PK\x03\x04 not really")])
    many = make_zip([(f"f{i}.py", b"x=1") for i in range(60)])
    assert "60 entries" in refused([("s.zip", many)])


MLP = ("mlp.py", b"import numpy as np\n")


def test_an_upload_may_give_a_notebook_for_a_python_file():
    files = validate_upload(
        [("layers.ipynb", notebook(code("def f(x):\n    return x"))), MLP], CONFIG
    )
    assert sorted(files) == ["layers.py", "mlp.py"]
    assert b"def f(x):\n    return x\n" in files["layers.py"]


def test_forbidden_code_in_a_notebook_is_located_by_cell_and_line():
    data = notebook(markdown("intro"), code("x = 1"), code("import numpy\nimport torch"))
    with pytest.raises(UploadError) as info:
        validate_upload([("layers.ipynb", data), MLP], CONFIG)
    assert "layers.ipynb cell 3, line 2: import of 'torch' is not allowed" in str(info.value)


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        ([("layers.ipynb", notebook()), ("layers.py", b"x = 1\n"), MLP], "not both"),
        ([("layers.ipynb", b"{}"), MLP], "no list of cells"),
        ([("other.ipynb", notebook()), ("layers.py", b"x = 1\n"), MLP], "Not part of"),
        ([("layers.ipynb", notebook(code("x = (\n"))), MLP], "layers.ipynb cell 1"),
        ([("layers.ipynb", notebook(code("x = 1\n" * 2000))), MLP], "the limit is 4 KiB"),
    ],
)
def test_bad_notebook_uploads_are_refused(uploads, message):
    with pytest.raises(UploadError, match=message):
        validate_upload(uploads, CONFIG)
