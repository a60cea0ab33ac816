"""Assignment packages: read and validate an assignment folder or zip.

Format: assignments/README.md.

A Package is immutable bytes (a normalised zip) plus its parsed assignment.toml. The web side
stores `Package.zip_bytes` in the database; workers rebuild the Package from those bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import tomllib
import zipfile
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from grader.job import Limits

SLUG_RE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
MODULE_FILE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\.py$")
CHECKS = ("allclose", "metric", "custom")
METRICS = ("accuracy", "cross_entropy", "mse")
GPU_MODES = ("none", "preferred", "required")
# Where a case's code runs. "numpy": an image with the interpreter and NumPy only (torch,
# scipy, sklearn are absent, so a ban on them holds by absence); "torch": NumPy and PyTorch.
ENVIRONMENTS = ("numpy", "torch")
# Who sees what a case's code printed and raised (staff always see everything):
# visible: the student too; hidden: pass/fail, points and the grader's own feedback only;
# after_deadline: hidden until the student's deadline (with extension) has passed.
VISIBILITIES = ("visible", "hidden", "after_deadline")
MAX_PACKAGE_BYTES = 64 * 1024 * 1024  # uncompressed, all members together
MAX_PACKAGE_MEMBERS = 2000
# Bytes of solution files that all patch mutants together may rebuild (bounds the work an
# uploaded package can ask for: each patch costs the size of the files it touches).
MAX_MUTANT_BYTES = 256 * 1024 * 1024


class PackageError(ValueError):
    """The package is malformed; the message says what to fix."""


@dataclass(frozen=True)
class CaseSpec:
    """One hidden case as declared in assignment.toml (trusted: read on the worker)."""

    name: str
    points: float
    description: str = ""
    check: str = "allclose"
    rtol: float = 1e-6
    atol: float = 1e-8
    timeout_s: float | None = None
    output: str = "pred"  # metric checks: which output holds the predictions
    labels: str | None = None  # file in hidden/labels/
    metric: str | None = None
    threshold: float | None = None
    environment: str = ""  # "numpy" or "torch"; "" until parse_config fills the default
    visibility: str = "hidden"
    # False: the check needs no reference outputs (metric checks, custom checks that judge
    # learned parameters on held-out data); the reference run skips the case.
    reference: bool | None = None

    @property
    def needs_reference(self) -> bool:
        return self.reference if self.reference is not None else self.check != "metric"


@dataclass(frozen=True)
class AssignmentConfig:
    slug: str
    title: str
    files: tuple[str, ...]
    cases: tuple[CaseSpec, ...]
    category: str = "programming"
    summary: str = ""
    max_file_kb: int = 256
    gpu: str = "none"
    forbidden_imports: tuple[str, ...] = ()
    forbidden_calls: tuple[str, ...] = ()
    allow_by_file: dict[str, tuple[str, ...]] = field(default_factory=dict)
    preload: tuple[str, ...] = ("numpy",)
    environment: str = "numpy"  # default for cases that do not name one
    limits: Limits = Limits()
    deadline: datetime | None = None  # default deadline (UTC) when the assignment is created
    late: str = "open"  # "open": late work accepted (flagged late); "closed": refused

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.cases))

    def environments(self) -> list[str]:
        """The environments this suite's cases run in, in ENVIRONMENTS order."""
        used = {c.environment for c in self.cases}
        return [env for env in ENVIRONMENTS if env in used]

    def preload_for(self, environment: str) -> tuple[str, ...]:
        """Preload modules importable in `environment` (torch only where it is installed)."""
        return tuple(m for m in self.preload if environment == "torch" or m != "torch")


# The stored form of a parsed AssignmentConfig (config_to_dict / config_from_dict): a suite
# version's configuration is validated once, when the version is stored, and read back later
# by the schema it was stored under, never re-validated by a newer, stricter parse_config.
CONFIG_SCHEMA = 1


def config_to_dict(config: AssignmentConfig) -> dict:
    """`config` as JSON-ready data under CONFIG_SCHEMA (what a stored suite version keeps)."""
    return {
        "schema": CONFIG_SCHEMA,
        **{f.name: _plain(getattr(config, f.name)) for f in fields(config)},
    }


def config_from_dict(data: dict) -> AssignmentConfig:
    """The AssignmentConfig stored by config_to_dict, read by the schema it was stored under;
    PackageError for a schema this grader does not know (a newer grader stored it)."""
    schema = data.get("schema")
    if schema != CONFIG_SCHEMA:
        raise PackageError(f"stored configuration schema {schema!r} is not {CONFIG_SCHEMA}")
    known = {f.name for f in fields(AssignmentConfig)}
    values = {k: v for k, v in data.items() if k in known}
    values["files"] = tuple(values["files"])
    values["cases"] = tuple(CaseSpec(**case) for case in values["cases"])
    for key in ("forbidden_imports", "forbidden_calls", "preload"):
        values[key] = tuple(values.get(key, ()))
    values["allow_by_file"] = {k: tuple(v) for k, v in values.get("allow_by_file", {}).items()}
    values["limits"] = Limits(**values.get("limits", {}))
    if values.get("deadline") is not None:
        values["deadline"] = datetime.fromisoformat(values["deadline"])
    return AssignmentConfig(**values)


def _plain(value: object) -> object:
    """Tuples, dataclasses and datetimes as JSON data."""
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Package:
    zip_bytes: bytes
    config: AssignmentConfig

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.zip_bytes).hexdigest()

    def names(self) -> list[str]:
        with zipfile.ZipFile(io.BytesIO(self.zip_bytes)) as zf:
            return zf.namelist()

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(io.BytesIO(self.zip_bytes)) as zf:
            return zf.read(name)

    def folder(self, prefix: str) -> dict[str, bytes]:
        """Files under `prefix/` (recursively), keyed by their path relative to it."""
        prefix = prefix.rstrip("/") + "/"
        out: dict[str, bytes] = {}
        with zipfile.ZipFile(io.BytesIO(self.zip_bytes)) as zf:
            for name in zf.namelist():
                if name.startswith(prefix) and not name.endswith("/"):
                    out[name[len(prefix) :]] = zf.read(name)
        return out

    def handout(self) -> str:
        return self.read("README.md").decode("utf-8") if "README.md" in self.names() else ""

    def solution_files(self) -> dict[str, bytes]:
        return self.folder("solution")

    def starter_files(self) -> dict[str, bytes]:
        return self.folder("starter")

    def mutants(self) -> dict[str, dict[str, bytes]]:
        """Mutant name -> its files: the solution with the mutant's folder or patch applied."""
        return build_mutants(self.solution_files(), self.folder("mutants"))

    def student_download(self) -> bytes:
        """Zip students download: handout, starter files at the top, public tests."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            root = self.config.slug
            out.writestr(f"{root}/README.md", self.handout())
            for rel, data in sorted(self.starter_files().items()):
                out.writestr(f"{root}/{rel}", data)
            for rel, data in sorted(self.folder("public_tests").items()):
                out.writestr(f"{root}/public_tests/{rel}", data)
        return buf.getvalue()


def load_package(source: str | Path | bytes) -> Package:
    """Read an assignment folder or zip, normalise it to a deterministic zip and validate it."""
    members = _read_folder(Path(source)) if isinstance(source, (str, Path)) else _read_zip(source)
    zip_bytes = _normalised_zip(members)
    if "assignment.toml" not in members:
        raise PackageError("assignment.toml is missing at the top of the package")
    try:
        raw = tomllib.loads(members["assignment.toml"].decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PackageError(f"assignment.toml does not parse: {exc}") from exc
    config = parse_config(raw)
    _check_layout(config, members)
    return Package(zip_bytes=zip_bytes, config=config)


def parse_config(raw: dict) -> AssignmentConfig:
    """Validate the parsed assignment.toml; raise PackageError naming the bad field."""
    slug = _req(raw, "slug", str)
    if not SLUG_RE.match(slug):
        raise PackageError(f"slug {slug!r}: use 2-40 lowercase letters, digits, '-' or '_'")
    files = tuple(_req(raw, "files", list))
    if not files or any(not isinstance(f, str) or not MODULE_FILE_RE.match(f) for f in files):
        raise PackageError("files: list the Python files students submit, e.g. ['layers.py']")
    gpu = raw.get("gpu", "none")
    if gpu not in GPU_MODES:
        raise PackageError(f"gpu must be one of {', '.join(GPU_MODES)}")
    # GPU assignments run PyTorch; the others default to the NumPy-only image.
    environment = raw.get("environment", "numpy" if gpu == "none" else "torch")
    if environment not in ENVIRONMENTS:
        raise PackageError(f"environment must be one of {', '.join(ENVIRONMENTS)}")
    visibility = raw.get("visibility", "hidden")
    if visibility not in VISIBILITIES:
        raise PackageError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    defaults = {"environment": environment, "visibility": visibility}
    cases = tuple(_parse_case(c, defaults) for c in _req(raw, "cases", list))
    if not cases:
        raise PackageError("declare at least one [[cases]]")
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise PackageError("case names must be unique")
    limits_raw = raw.get("limits", {})
    try:
        limits = Limits(**{k: type(getattr(Limits, k))(v) for k, v in limits_raw.items()})
    except (TypeError, AttributeError, ValueError) as exc:
        raise PackageError(f"[limits]: {exc}") from exc
    allow = {str(k): tuple(v) for k, v in raw.get("allow_by_file", {}).items()}
    deadline = raw.get("deadline")
    if deadline is not None and not isinstance(deadline, datetime):
        raise PackageError("deadline must be a TOML date-time, e.g. 2026-12-01T23:59:00Z")
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    if raw.get("late", "open") not in ("open", "closed"):
        raise PackageError("late must be 'open' or 'closed'")
    return AssignmentConfig(
        slug=slug,
        title=_req(raw, "title", str),
        files=files,
        cases=cases,
        category=str(raw.get("category", "programming")),
        summary=str(raw.get("summary", "")),
        max_file_kb=int(raw.get("max_file_kb", 256)),
        gpu=gpu,
        forbidden_imports=tuple(raw.get("forbidden_imports", ())),
        forbidden_calls=tuple(raw.get("forbidden_calls", ())),
        allow_by_file=allow,
        preload=tuple(raw.get("preload", ("numpy",))),
        environment=environment,
        limits=limits,
        deadline=deadline,
        late=raw.get("late", "open"),
    )


def _parse_case(raw: dict, defaults: dict[str, str]) -> CaseSpec:
    if not isinstance(raw, dict):
        raise PackageError("each [[cases]] entry must be a table")
    name = _req(raw, "name", str)
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise PackageError(f"case name {name!r} must be a Python identifier")
    known = set(CaseSpec.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise PackageError(f"case {name}: unknown keys {sorted(unknown)}")
    case = CaseSpec(**{**defaults, **raw})
    if case.environment not in ENVIRONMENTS:
        raise PackageError(f"case {name}: environment must be one of {', '.join(ENVIRONMENTS)}")
    if case.visibility not in VISIBILITIES:
        raise PackageError(f"case {name}: visibility must be one of {', '.join(VISIBILITIES)}")
    if case.reference is not None and not isinstance(case.reference, bool):
        raise PackageError(f"case {name}: reference must be true or false")
    if case.points < 0:
        raise PackageError(f"case {name}: points must be >= 0")
    if case.check not in CHECKS:
        raise PackageError(f"case {name}: check must be one of {', '.join(CHECKS)}")
    if case.check == "metric" and (
        case.metric not in METRICS or case.labels is None or case.threshold is None
    ):
        raise PackageError(f"case {name}: a metric check needs metric, labels and threshold")
    return case


def _check_layout(config: AssignmentConfig, members: dict[str, bytes]) -> None:
    for required in ("hidden/cases.py", "README.md"):
        if required not in members:
            raise PackageError(f"{required} is missing")
    for folder in ("solution", "starter"):
        for fname in config.files:
            if f"{folder}/{fname}" not in members:
                raise PackageError(f"{folder}/{fname} is missing")
    for case in config.cases:
        if case.labels and f"hidden/labels/{case.labels}" not in members:
            raise PackageError(f"case {case.name}: hidden/labels/{case.labels} is missing")
    if any(c.check == "custom" for c in config.cases) and "hidden/checks.py" not in members:
        raise PackageError("custom checks need hidden/checks.py")
    _check_mutants(members)


def _check_mutants(members: dict[str, bytes]) -> None:
    """Every mutant builds: each patch applies to solution/, no name is used twice."""

    def under(folder: str) -> dict[str, bytes]:
        return {n.removeprefix(folder): d for n, d in members.items() if n.startswith(folder)}

    build_mutants(under("solution/"), under("mutants/"))


def build_mutants(
    solution: dict[str, bytes], mutant_members: dict[str, bytes]
) -> dict[str, dict[str, bytes]]:
    """Mutant name -> full file set, from mutants/<name>/<file> folders and mutants/<name>.patch.

    `mutant_members` is keyed by the path under mutants/. A folder's files are laid over the
    solution; a patch is applied to it strictly (see apply_patch). Raises PackageError.
    """
    folders: dict[str, dict[str, bytes]] = {}
    patches: dict[str, bytes] = {}
    for rel, data in mutant_members.items():
        name, _, fname = rel.partition("/")
        if fname and "/" not in fname:
            folders.setdefault(name, {})[fname] = data
        elif not fname and name.endswith(".patch"):
            patches[name.removesuffix(".patch")] = data
    if both := sorted(set(folders) & set(patches)):
        raise PackageError(f"mutant {both[0]}: both mutants/{both[0]}/ and {both[0]}.patch exist")
    out = {name: {**solution, **files} for name, files in folders.items()}
    rebuilt = 0
    for name, patch in sorted(patches.items()):
        try:
            out[name] = apply_patch(solution, patch)
        except PackageError as exc:
            raise PackageError(f"mutant {name}.patch: {exc}") from exc
        rebuilt += sum(len(solution[f]) for f, data in out[name].items() if data is not solution[f])
        if rebuilt > MAX_MUTANT_BYTES:
            raise PackageError(
                f"mutant {name}.patch: the patches rebuild more than {MAX_MUTANT_BYTES >> 20} MiB"
            )
    return dict(sorted(out.items()))


HUNK_RE = re.compile(rb"^@@ -(\d{1,9})(?:,(\d{1,9}))? \+(\d{1,9})(?:,(\d{1,9}))? @@")
NO_NEWLINE = b"\\ No newline at end of file"


def apply_patch(files: dict[str, bytes], patch: bytes) -> dict[str, bytes]:
    """`files` with a unified diff applied: exact context, hunks at their stated lines, no fuzz.

    Only files already in `files` may be changed (no creation, deletion or renames). Work is
    linear in the sizes of the patch and the files it touches.
    """
    out = dict(files)
    lines = _split_lines(patch)
    i, touched = 0, set()
    while i < len(lines):
        if not lines[i].startswith(b"--- "):
            if lines[i].startswith((b"+++ ", b"@@ ")) or (
                touched and lines[i].startswith((b" ", b"+", b"-", b"\\"))
            ):
                raise PackageError(f"line {i + 1} is outside any hunk (are the counts right?)")
            i += 1  # preamble: "diff --git", "index ...", free text
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith(b"+++ "):
            raise PackageError(f"line {i + 1}: '--- ' is not followed by '+++ '")
        name = _patch_path(lines[i], files)
        if _patch_path(lines[i + 1], files) != name:
            raise PackageError(f"line {i + 2}: old and new file names differ")
        if name in touched:
            raise PackageError(f"{name} appears twice")
        touched.add(name)
        i, out[name] = _apply_file(lines, i + 2, out[name], name)
    if not touched:
        raise PackageError("not a unified diff (no '--- a/<file>' / '+++ b/<file>' header)")
    return out


def _split_lines(data: bytes) -> list[bytes]:
    """Lines without their '\n' (only '\n' splits, so '\r' and form feeds stay in the text)."""
    lines = data.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def _patch_path(header: bytes, files: dict[str, bytes]) -> str:
    """The solution file a '--- '/'+++ ' header names; a/ and b/ prefixes are dropped."""
    raw = header[4:].split(b"\t", 1)[0].rstrip(b"\r")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError("a file name is not UTF-8") from exc
    for prefix in ("a/", "b/"):
        if text.startswith(prefix) and text not in files:
            text = text[len(prefix) :]
    path = PurePosixPath(text)
    if not text or path.is_absolute() or ".." in path.parts or "\\" in text:
        raise PackageError(f"unsafe file name {text!r}")
    if text not in files:
        raise PackageError(f"{text} is not a solution file")
    return text


def _apply_file(lines: list[bytes], i: int, original: bytes, name: str) -> tuple[int, bytes]:
    """Apply the hunks starting at lines[i] to `original`; return (next line, new content)."""
    old = _keep_ends(original)
    new: list[bytes] = []
    pos = 0  # lines of `old` consumed so far
    if i >= len(lines) or not HUNK_RE.match(lines[i]):
        raise PackageError(f"{name}: no hunk after the file header")
    while i < len(lines) and (m := HUNK_RE.match(lines[i])):
        start, n_old = int(m[1]), int(m[2] if m[2] is not None else 1)
        n_new = int(m[4] if m[4] is not None else 1)
        at = start if n_old == 0 else start - 1
        if at < pos or at > len(old):
            raise PackageError(f"{name}: hunk at line {start} overlaps or is out of range")
        new += old[pos:at]
        pos, i = at, i + 1
        while n_old or n_new:
            if i >= len(lines):
                raise PackageError(f"{name}: hunk at line {start} is cut short")
            tag, text = lines[i][:1], lines[i][1:]
            i += 1
            if i < len(lines) and lines[i].startswith(NO_NEWLINE):
                i += 1  # the line before is the file's last and has no '\n'
            else:
                text += b"\n"
            # A blank context line may have lost its leading space to an editor.
            if tag in (b" ", b"") and n_old and n_new:
                n_old, n_new, pos = n_old - 1, n_new - 1, _expect(old, pos, text, name)
                new.append(text)
            elif tag == b"-" and n_old:
                n_old, pos = n_old - 1, _expect(old, pos, text, name)
            elif tag == b"+" and n_new:
                n_new -= 1
                new.append(text)
            else:
                raise PackageError(f"{name}: patch line {i} does not fit its hunk")
    result = new + old[pos:]
    if any(not line.endswith(b"\n") for line in result[:-1]):
        raise PackageError(f"{name}: '\\ No newline at end of file' before the last line")
    return i, b"".join(result)


def _keep_ends(data: bytes) -> list[bytes]:
    """Lines with their '\n' (the last may lack one); only '\n' splits."""
    parts = data.split(b"\n")
    return [part + b"\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _expect(old: list[bytes], pos: int, text: bytes, name: str) -> int:
    """The next position, once old[pos] is checked to be `text`."""
    if pos >= len(old) or old[pos] != text:
        shown = old[pos][:60].decode("utf-8", "replace") if pos < len(old) else "end of file"
        raise PackageError(f"{name}: line {pos + 1} does not match the patch (file has {shown!r})")
    return pos + 1


def _req(raw: dict, key: str, kind: type):
    value = raw.get(key)
    if not isinstance(value, kind):
        raise PackageError(f"{key} is required ({kind.__name__})")
    return value


def _safe_member(name: str) -> str | None:
    """Normalised relative path of a package member, or None for directories and junk."""
    if name.endswith("/"):
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        raise PackageError(f"unsafe path in package: {name!r}")
    if any(p in ("__pycache__", ".git", ".DS_Store") or p.startswith("._") for p in path.parts):
        return None
    return str(path)


def _strip_common_root(members: dict[str, bytes]) -> dict[str, bytes]:
    """Zips made by 'compress folder' hold everything under one top folder: drop it."""
    if "assignment.toml" in members:
        return members
    tops = {name.split("/", 1)[0] for name in members}
    if len(tops) == 1 and all("/" in name for name in members):
        top = tops.pop() + "/"
        return {name[len(top) :]: data for name, data in members.items()}
    return members


def _read_zip(data: bytes) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise PackageError("not a zip file") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_PACKAGE_MEMBERS:
            raise PackageError(f"too many files in package (max {MAX_PACKAGE_MEMBERS})")
        total = 0
        members: dict[str, bytes] = {}
        for info in infos:
            name = _safe_member(info.filename)
            if name is None:
                continue
            total += info.file_size
            if total > MAX_PACKAGE_BYTES:
                raise PackageError("package expands past 64 MiB")
            content = zf.open(info).read(MAX_PACKAGE_BYTES + 1)
            if len(content) != info.file_size:
                raise PackageError(f"{name}: size does not match the zip header")
            members[name] = content
    return _strip_common_root(members)


def _read_folder(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        raise PackageError(f"{root} is not a directory")
    members: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            name = _safe_member(path.relative_to(root).as_posix())
            if name is not None:
                members[name] = path.read_bytes()
    return members


def _normalised_zip(members: dict[str, bytes]) -> bytes:
    """Same members -> same bytes (fixed timestamps, sorted), so sha256 names a suite version."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, members[name])
    return buf.getvalue()
