"""Build assignment package zips for upload tests (the way an instructor's 'compress folder'
does: everything under one top folder)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

BATCHNORM = Path(__file__).resolve().parent / "fixtures" / "batchnorm"


def zip_folder(folder: Path, edits: dict[str, str | None] | None = None, top: str = "") -> bytes:
    """The folder's files zipped under `top` (default: the folder's name); `edits` replace
    (text) or drop (None) files by their path relative to the folder."""
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    for rel, text in (edits or {}).items():
        if text is None:
            files.pop(rel, None)
        else:
            files[rel] = text.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in sorted(files.items()):
            zf.writestr(f"{top or folder.name}/{rel}", data)
    return buf.getvalue()


def batchnorm_variant(slug: str, survivor: bool = False, points: dict[str, int] | None = None):
    """The batchnorm package renamed to `slug`, optionally with a 'mutant' identical to the
    solution (it survives every case) and with some cases' points changed."""
    toml = (BATCHNORM / "assignment.toml").read_text()
    toml = toml.replace('slug = "batchnorm"', f'slug = "{slug}"')
    for case, value in (points or {}).items():
        old = f'name = "{case}"\npoints = '
        start = toml.index(old) + len(old)
        end = toml.index("\n", start)
        toml = toml[:start] + str(value) + toml[end:]
    edits: dict[str, str | None] = {"assignment.toml": toml}
    if survivor:
        edits["mutants/no_op/batchnorm.py"] = (BATCHNORM / "solution" / "batchnorm.py").read_text()
    return zip_folder(BATCHNORM, edits, top=slug)
