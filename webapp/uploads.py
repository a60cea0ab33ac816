"""Validate what a student uploads before anything is stored.

Every upload is hostile: names, sizes, encodings and archives are checked here, in the web
process, and a bad upload is refused as a whole with one message the student can act on.
"""

from __future__ import annotations

import stat
import zipfile
from io import BytesIO
from pathlib import PurePosixPath

from grader import AssignmentConfig, check_forbidden
from webapp.notebooks import Converted, NotebookError, convert, python_name_for

MAX_ARCHIVE_MEMBERS = 50  # a submission is a handful of files; more is a mistake or an attack
ARCHIVE_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db")  # added by OS zip tools, ignored


class UploadError(ValueError):
    """The upload is refused; `str(error)` is the message shown to the student."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def validate_upload(uploads: list[tuple[str, bytes]], config: AssignmentConfig) -> dict[str, bytes]:
    """Return the submission's files (name -> bytes) or raise UploadError saying what is wrong."""
    uploads = [(name, data) for name, data in uploads if name or data]
    if not uploads:
        raise UploadError(f"Choose the files to submit: {_listing(config.files)}.")
    if len(uploads) == 1 and uploads[0][0].lower().endswith(".zip"):
        uploads = _expand_zip(uploads[0][1], config)
    uploads, notebooks = _convert_notebooks(uploads, config)
    files = _check_names(uploads, config)
    for name, data in files.items():
        _check_content(name, data, config)
    problems = check_forbidden(files, config)
    if problems:
        for python_name, converted in notebooks.items():
            problems = [converted.locate(problem, python_name) for problem in problems]
        raise UploadError("Your code cannot be graded: " + "; ".join(problems[:5]))
    return files


def _convert_notebooks(
    uploads: list[tuple[str, bytes]], config: AssignmentConfig
) -> tuple[list[tuple[str, bytes]], dict[str, Converted]]:
    """Replace each notebook that stands for a required Python file (layers.ipynb for
    layers.py) by its code cells; the conversions are returned by Python file name."""
    names = {name for name, _ in uploads}
    converted: dict[str, Converted] = {}
    result = []
    for name, data in uploads:
        python_name = python_name_for(name)
        if python_name is None or python_name not in config.files or name in config.files:
            result.append((name, data))
            continue
        if python_name in names:
            raise UploadError(f"Upload {python_name} or {name}, not both.")
        try:
            converted[python_name] = convert(name, data)
        except NotebookError as exc:
            raise UploadError(str(exc)) from exc
        result.append((python_name, converted[python_name].source))
    return result, converted


def _listing(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names)


def _check_names(uploads: list[tuple[str, bytes]], config: AssignmentConfig) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name, data in uploads:
        if "/" in name or "\\" in name or name in (".", ".."):
            raise UploadError(f"File names must not contain folders: {name!r}.")
        if name in files:
            raise UploadError(f"{name} was uploaded twice.")
        files[name] = data
    expected = set(config.files)
    extra = sorted(set(files) - expected)
    if extra:
        raise UploadError(
            f"Not part of this assignment: {_listing(extra)}. "
            f"Submit exactly {_listing(config.files)}."
        )
    missing = [name for name in config.files if name not in files]
    if missing:
        raise UploadError(f"Missing: {_listing(missing)}. Submit exactly {_listing(config.files)}.")
    return {name: files[name] for name in config.files}


def _check_content(name: str, data: bytes, config: AssignmentConfig) -> None:
    cap = config.max_file_kb * 1024
    if len(data) > cap:
        raise UploadError(
            f"{name} is {len(data) // 1024} KiB; the limit is {config.max_file_kb} KiB."
        )
    if not data.strip():
        raise UploadError(f"{name} is empty.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadError(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}). "
            "Save it as UTF-8 and upload it again."
        ) from exc
    if "\x00" in text:
        raise UploadError(f"{name} contains NUL bytes; upload the Python source file.")


def _expand_zip(data: bytes, config: AssignmentConfig) -> list[tuple[str, bytes]]:
    """Read a zip of the submission safely: no paths out, no links, bounded size and count."""
    total_cap = len(config.files) * config.max_file_kb * 1024
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UploadError("The .zip file is damaged or not a zip archive.") from exc
    with archive:
        infos = [i for i in archive.infolist() if not _is_junk(i.filename)]
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise UploadError(f"The archive holds {len(infos)} entries; submit only your files.")
        members: list[tuple[str, bytes]] = []
        expanded = 0
        for info in infos:
            name = _member_name(info)
            if name is None:
                continue
            content = _read_member(archive, info, total_cap - expanded)
            expanded += len(content)
            members.append((name, content))
    return _flatten_single_folder(members)


def _is_junk(filename: str) -> bool:
    return filename.startswith(ARCHIVE_JUNK[0]) or PurePosixPath(filename).name in ARCHIVE_JUNK


def _member_name(info: zipfile.ZipInfo) -> str | None:
    """The member's path inside the archive, or None for a folder; refuse anything unsafe."""
    raw = info.filename
    path = PurePosixPath(raw)
    if raw.startswith(("/", "\\")) or "\\" in raw or ".." in path.parts or ":" in raw:
        raise UploadError(f"The archive contains an unsafe path: {raw!r}.")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UploadError(f"The archive contains a symbolic link: {raw!r}.")
    if info.is_dir():
        return None
    if len(path.parts) > 2:
        raise UploadError(f"Put your files at the top of the archive (found {raw!r}).")
    return str(path)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """Decompress one member, stopping at the budget whatever its header claims."""
    if info.file_size > budget:
        raise UploadError("The archive expands past the size limit for this assignment.")
    with archive.open(info) as stream:
        content = stream.read(budget + 1)
    if len(content) > budget:
        raise UploadError("The archive expands past the size limit for this assignment.")
    return content


def _flatten_single_folder(members: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Accept files zipped inside one folder (what 'compress folder' makes) as if at the top."""
    folders = {PurePosixPath(name).parts[0] for name, _ in members if "/" in name}
    if not folders:
        return members
    if len(folders) == 1 and all("/" in name for name, _ in members):
        return [(PurePosixPath(name).name, data) for name, data in members]
    raise UploadError("Put your files at the top of the archive, not in several folders.")
