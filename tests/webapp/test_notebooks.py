"""Notebooks in place of Python files: only the code cells' source is kept, IPython syntax is
commented out, outputs never matter, and hostile JSON is refused with a message. Uploading
them is tested with the other uploads (tests/webapp/test_uploads.py)."""

from __future__ import annotations

import ast

import pytest

from tests.notebook_support import code, markdown, notebook
from webapp.notebooks import MAX_NOTEBOOK_BYTES, NotebookError, convert, python_name_for


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
