"""Jupyter notebooks in place of Python files: where an assignment asks for `layers.py`, a
student may upload `layers.ipynb`, and what is stored and graded is the source of its code
cells, joined in order.

The notebook is hostile JSON. Only each code cell's `source` is read: outputs, metadata and
attachments are dropped unread, so pre-filled outputs claiming "all tests passed" change
nothing and no notebook HTML is ever rendered. IPython syntax is not Python: line magics and
shell escapes (`%matplotlib inline`, `!pip install ...`) are commented out, and a cell magic
(`%%time`, `%%bash`) drops its whole cell, whose body may be another language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_NOTEBOOK_BYTES = 4 * 1024 * 1024  # outputs (plots) make notebooks larger than their code
MAX_CELLS = 2000
NOTEBOOK_SUFFIX = ".ipynb"
MAGIC_LINE = re.compile(r"^\s*[%!]")
LINE_REF = re.compile(r"^(?P<name>[^:]+):(?P<line>\d+): ")


class NotebookError(ValueError):
    """The notebook cannot be used; the message says why, for the student."""


@dataclass(frozen=True)
class Converted:
    """The Python source made from a notebook, and where each of its lines came from."""

    notebook: str  # the uploaded name, e.g. layers.ipynb
    source: bytes
    origins: tuple[tuple[int, int] | None, ...]  # per line: (cell number, line in cell)

    def locate(self, message: str, python_name: str) -> str:
        """Rewrite "layers.py:12: ..." as "layers.ipynb cell 3, line 2: ..." where it can."""
        match = LINE_REF.match(message)
        if match is None or match["name"] != python_name:
            return message
        line = int(match["line"])
        origin = self.origins[line - 1] if 0 < line <= len(self.origins) else None
        where = f"{self.notebook} cell {origin[0]}, line {origin[1]}" if origin else self.notebook
        return f"{where}: {message[match.end() :]}"


def python_name_for(name: str) -> str | None:
    """`layers.py` for `layers.ipynb`; None for a name that is not a notebook."""
    if not name.lower().endswith(NOTEBOOK_SUFFIX) or len(name) == len(NOTEBOOK_SUFFIX):
        return None
    return name[: -len(NOTEBOOK_SUFFIX)] + ".py"


def convert(name: str, data: bytes) -> Converted:
    """The code cells of notebook `name` as one Python file; NotebookError if it is not a
    usable notebook (nbformat 4 JSON)."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(
            f"{name} is {len(data) // 1024} KiB; notebooks may be at most "
            f"{MAX_NOTEBOOK_BYTES // (1024 * 1024)} MiB (clear the outputs and save it again)."
        )
    cells = _cells(name, data)
    lines = [f"# The code cells of {name}, converted on upload.".encode()]
    origins: list[tuple[int, int] | None] = [None]
    for number, source in _code_cells(name, cells):
        lines.append(b"")
        origins.append(None)
        for line_no, line in enumerate(_without_magics(source).split("\n"), start=1):
            lines.append(line.encode("utf-8"))
            origins.append((number, line_no))
    return Converted(name, b"\n".join(lines) + b"\n", tuple(origins))


def _cells(name: str, data: bytes) -> list:
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{name} is not UTF-8 text, so not a notebook.") from exc
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise NotebookError(f"{name} is not a Jupyter notebook (not valid JSON).") from exc
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError(f"{name} is not a Jupyter notebook (it has no list of cells).")
    version = document.get("nbformat")
    if version != 4:
        raise NotebookError(
            f"{name} is in notebook format {version!r}; save it with a current Jupyter "
            "(format 4) and upload it again."
        )
    cells = document["cells"]
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"{name} has {len(cells)} cells; at most {MAX_CELLS} are accepted.")
    return cells


def _code_cells(name: str, cells: list) -> list[tuple[int, str]]:
    """(cell number counting from 1, source) of every code cell, checked to be text."""
    found = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"{name}: cell {number} is not a notebook cell.")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{name}: the source of cell {number} is not text.")
        found.append((number, source))
    return found


def _without_magics(source: str) -> str:
    """The cell's source with IPython-only lines commented out (a cell magic: all of it)."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    if source.lstrip().startswith("%%"):
        return "\n".join(f"# (cell magic, not graded) {line}" for line in source.split("\n"))
    return "\n".join(
        f"# (IPython only, not graded) {line}" if MAGIC_LINE.match(line) else line
        for line in source.split("\n")
    )
