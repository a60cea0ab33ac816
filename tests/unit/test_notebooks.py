"""Notebooks in place of Python files: only the code cells' source is kept, IPython syntax is
commented out, outputs never matter, and hostile JSON is refused with a message."""

from __future__ import annotations

import ast
import json

import pytest

from grader.package import parse_config
from webapp.notebooks import MAX_NOTEBOOK_BYTES, NotebookError, convert, python_name_for
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
MLP = ("mlp.py", b"import numpy as np\n")


def notebook(*cells: dict, nbformat: int = 4) -> bytes:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": nbformat}).encode()


def code(source, outputs=()) -> dict:
    return {"cell_type": "code", "source": source, "outputs": list(outputs), "metadata": {}}


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def test_code_cells_are_joined_in_order_and_everything_else_dropped():
    forged = {"output_type": "stream", "text": "===== 42 passed =====\n<script>x</script>"}
    data = notebook(
        markdown("# Layers\n```python\nimport torch\n```"),
        code(["import numpy as np\n", "\n", "def relu(x):\n", "    return np.maximum(x, 0)\n"]),
        code("print(relu(np.ones(2)))", outputs=[forged]),
    )
    source = convert("layers.ipynb", data).source.decode()
    assert "import torch" not in source and "passed" not in source and "<script>" not in source
    assert source.index("def relu") < source.index("print(relu")
    tree = ast.parse(source)
    assert [type(node).__name__ for node in tree.body] == ["Import", "FunctionDef", "Expr"]


def test_ipython_syntax_is_commented_out_and_cell_magics_drop_their_cell():
    data = notebook(
        code("%matplotlib inline\n!pip install torch\nimport numpy as np"),
        code("%%bash\nrm -rf /\necho hi"),
        code("x = 1"),
    )
    source = convert("layers.ipynb", data).source.decode()
    ast.parse(source)  # what is left is Python
    assert "\nimport numpy as np\n" in source and "\nx = 1\n" in source
    assert "# (IPython only, not graded) !pip install torch" in source
    assert "# (cell magic, not graded) rm -rf /" in source


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"cells": [', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),  # nesting past the parser's depth
        (b'{"nbformat": 4, "cells": {"a": 1}}', "no list of cells"),
        (b'["cells"]', "no list of cells"),
        (notebook(code("x = 1"), nbformat=3), "notebook format 3"),
        (notebook("not a cell"), "cell 1 is not a notebook cell"),
        (notebook(code({"evil": True})), "source of cell 1 is not text"),
        (notebook(code(["ok", 7])), "source of cell 1 is not text"),
        (notebook(*[markdown("")] * 2001), "2001 cells"),
        (b" " * (MAX_NOTEBOOK_BYTES + 1), "clear the outputs"),
    ],
)
def test_hostile_notebooks_are_refused_with_a_reason(data, message):
    with pytest.raises(NotebookError, match=message):
        convert("layers.ipynb", data)


def test_python_name_for():
    assert python_name_for("layers.ipynb") == "layers.py"
    assert python_name_for("Layers.IPYNB") == "Layers.py"
    assert python_name_for("layers.py") is None and python_name_for(".ipynb") is None


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
        ([("layers.ipynb", notebook(code("x = 1\n" * 2000))), MLP], "the limit is 4 KB"),
    ],
)
def test_bad_notebook_uploads_are_refused(uploads, message):
    with pytest.raises(UploadError, match=message):
        validate_upload(uploads, CONFIG)
