"""The static forbidden-API check: imports, dotted uses through aliases, dynamic escape hatches."""

from __future__ import annotations

import pytest

from grader.forbidden import check_forbidden
from grader.package import AssignmentConfig, CaseSpec


def config(**overrides) -> AssignmentConfig:
    base = {
        "slug": "t",
        "title": "T",
        "files": ("layers.py", "model.py"),
        "cases": (CaseSpec("c", 1),),
        "forbidden_imports": ("torch", "tensorflow"),
        "forbidden_calls": ("numpy.linalg.inv", "numpy.dot"),
    }
    return AssignmentConfig(**{**base, **overrides})


def check(source: str, name: str = "layers.py", **overrides) -> list[str]:
    return check_forbidden({name: source.encode()}, config(**overrides))


NOT_HERE = "is not allowed in this assignment"
NEVER = "is not allowed (dynamic imports and code execution are never allowed)"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import torch\n", f"layers.py:1: import of 'torch' {NOT_HERE}"),
        ("import numpy\nimport torch.nn as nn\n", f"layers.py:2: import of 'torch.nn' {NOT_HERE}"),
        ("from torch import nn\n", f"layers.py:1: import of 'torch.nn' {NOT_HERE}"),
        (
            "from torch.autograd import grad\n",
            f"layers.py:1: import of 'torch.autograd.grad' {NOT_HERE}",
        ),
        ("from tensorflow import *\n", f"layers.py:1: import of 'tensorflow' {NOT_HERE}"),
        ("def f():\n    import torch\n", f"layers.py:2: import of 'torch' {NOT_HERE}"),
        ("from numpy.linalg import inv\n", f"layers.py:1: import of 'numpy.linalg.inv' {NOT_HERE}"),
    ],
)
def test_forbidden_imports(source, expected):
    """Each form of import is matched by module prefix, wherever it appears."""
    assert check(source) == [expected]


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np\nx = np.linalg.inv(a)\n",
        "import numpy\nx = numpy.linalg.inv(a)\n",
        "import numpy.linalg as la\nx = la.inv(a)\n",
        "from numpy import linalg\nx = linalg.inv(a)\n",
        "import numpy as np\nla = np.linalg\nx = la.inv(a)\n",
        "import numpy as np\nx = getattr(np.linalg, 'inv')(a)\n",
        "import numpy as np\nx = getattr(getattr(np, 'linalg'), 'inv')(a)\n",
        "import numpy as np\nx = np.linalg.__dict__['inv'](a)\n",
    ],
)
def test_forbidden_calls_through_aliases(source):
    """np.linalg.inv is found through import aliases, assignments, getattr and __dict__."""
    last_line = source.count("\n")
    assert check(source) == [f"layers.py:{last_line}: use of 'numpy.linalg.inv' {NOT_HERE}"]


def test_each_finding_is_reported_once():
    """An import is reported once; uses through that binding are not reported again."""
    source = "import torch\nx = torch.tensor([1.0])\ny = torch.autograd.grad(x, x)\n"
    assert check(source) == [f"layers.py:1: import of 'torch' {NOT_HERE}"]


def test_allowed_code_passes():
    """Ordinary NumPy code, other numpy.linalg functions and re.compile are fine."""
    source = (
        "import re\nimport numpy as np\nfrom re import compile\n"
        "def compile_model(x):\n    return np.linalg.norm(x) + np.einsum('ij->i', x).sum()\n"
        "pattern = re.compile('a')\n"
    )
    assert check(source) == []


def test_allow_by_file():
    """allow_by_file lifts a ban for one file only."""
    files = {"layers.py": b"import torch\n", "model.py": b"import torch\n"}
    cfg = config(allow_by_file={"model.py": ("torch",)})
    assert check_forbidden(files, cfg) == [f"layers.py:1: import of 'torch' {NOT_HERE}"]


def test_allowing_a_submodule_checks_every_use_of_its_parent():
    """With torch.nn allowed, `import torch` is fine but torch.autograd through it is not."""
    source = "import torch\nlayer = torch.nn.Linear(2, 3)\ng = torch.autograd.grad\n"
    assert check(source, allow_by_file={"layers.py": ("torch.nn",)}) == [
        f"layers.py:3: use of 'torch.autograd.grad' {NOT_HERE}"
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("m = __import__('torch')\n", f"layers.py:1: '__import__' {NEVER}"),
        ("import importlib\n", f"layers.py:1: import of 'importlib' {NEVER}"),
        (
            "from importlib import import_module\n",
            f"layers.py:1: import of 'importlib.import_module' {NEVER}",
        ),
        ("exec('import torch')\n", f"layers.py:1: 'exec' {NEVER}"),
        ("f = eval\n", f"layers.py:1: 'eval' {NEVER}"),
        ("c = compile('1', 'x', 'eval')\n", f"layers.py:1: 'compile' {NEVER}"),
        ("import sys\nt = sys.modules['torch']\n", f"layers.py:2: 'sys.modules' {NEVER}"),
        ("import builtins\n", f"layers.py:1: import of 'builtins' {NEVER}"),
        ("g = f.__globals__\n", f"layers.py:1: '__globals__' {NEVER}"),
        ("b = vars()['__builtins__']\n", f"layers.py:1: '__builtins__' {NEVER}"),
    ],
)
def test_dynamic_escape_hatches_are_always_forbidden(source, expected):
    """These are refused in every assignment, even one that forbids nothing."""
    assert check(source, forbidden_imports=(), forbidden_calls=()) == [expected]


def test_star_import_that_hides_a_forbidden_call():
    assert check("from numpy.linalg import *\n") == [
        f"layers.py:1: 'from numpy.linalg import *' {NOT_HERE} (it brings in 'numpy.linalg.inv')"
    ]


def test_syntax_errors_and_undecodable_files():
    """A file that does not parse is reported with its line; non-Python files are skipped."""
    files = {
        "layers.py": b"x = 1\n\ndef f(:\n",
        "model.py": b"\xff\xfe",
        "notes.txt": b"import torch",
    }
    messages = check_forbidden(files, config())
    assert messages[0].startswith("layers.py:3: syntax error: ")
    assert messages[1:] == ["model.py: not valid UTF-8 text"]


def test_findings_are_sorted_by_file_and_line():
    files = {
        "model.py": b"import torch\n",
        "layers.py": b"x = 1\nimport tensorflow\nimport torch\n",
    }
    assert check_forbidden(files, config()) == [
        f"layers.py:2: import of 'tensorflow' {NOT_HERE}",
        f"layers.py:3: import of 'torch' {NOT_HERE}",
        f"model.py:1: import of 'torch' {NOT_HERE}",
    ]
