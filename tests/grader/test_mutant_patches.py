"""Mutants as unified diffs against solution/ (mutants/<name>.patch) next to whole-file folders."""

from __future__ import annotations

import difflib
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.package import PackageError, apply_patch, load_package

TOY = Path(__file__).resolve().parent.parent / "fixtures" / "toy"
OPS = (TOY / "solution" / "ops.py").read_bytes()
RELU_BUG = OPS.replace(b"np.maximum(x, 0.0), x > 0", b"np.maximum(x, 0.0), x >= 0")

FILES = {"layers.py": b"a\nb\nc\nd\ne\nf\ng\nh\n", "model.py": b"one\ntwo\n"}


def diff(name: str, old: bytes, new: bytes, prefix: bool = True) -> bytes:
    """`diff -u` of one file, as the conversion script writes it."""
    a, b = (f"a/{name}", f"b/{name}") if prefix else (name, name)
    lines = difflib.unified_diff(
        old.decode().splitlines(keepends=True), new.decode().splitlines(keepends=True), a, b
    )
    return "".join(lines).encode()


def toy_with(tmp_path: Path, patches: dict[str, bytes], folders: dict[str, bytes]) -> Path:
    """A copy of the toy package with mutants/<name>.patch and mutants/<name>/ops.py."""
    root = tmp_path / "toy"
    shutil.copytree(TOY, root)
    (root / "mutants").mkdir()
    for name, text in patches.items():
        (root / "mutants" / f"{name}.patch").write_bytes(text)
    for name, ops in folders.items():
        (root / "mutants" / name).mkdir()
        (root / "mutants" / name / "ops.py").write_bytes(ops)
    return root


# ------------------------------------------------------------------------------- applying


def test_a_patch_gives_the_mutated_file_and_leaves_the_others() -> None:
    """Each changed file is rebuilt byte for byte; untouched files are the solution's."""
    new = b"a\nb\nC\nd\ne\nf\ng\nH\nI\n"
    patch = diff("layers.py", FILES["layers.py"], new)
    assert apply_patch(FILES, patch) == {**FILES, "layers.py": new}


def test_plain_names_git_headers_and_several_files() -> None:
    """Names without a/ b/, `git diff` preamble lines and two files in one patch all apply."""
    patch = (
        b"diff --git a/layers.py b/layers.py\nindex 1111111..2222222 100644\n"
        + diff("layers.py", FILES["layers.py"], b"a\nb\nd\ne\nf\ng\nh\n")
        + diff("model.py", FILES["model.py"], b"one\n2\n", prefix=False)
    )
    out = apply_patch(FILES, patch)
    assert out == {"layers.py": b"a\nb\nd\ne\nf\ng\nh\n", "model.py": b"one\n2\n"}


def test_no_newline_at_end_of_file_is_honoured() -> None:
    """The '\\ No newline' marker drops the final newline, as diff -u means it."""
    patch = (
        b"--- a/model.py\n+++ b/model.py\n@@ -2 +2 @@\n-two\n+TWO\n\\ No newline at end of file\n"
    )
    assert apply_patch(FILES, patch)["model.py"] == b"one\nTWO"


def test_a_blank_context_line_that_lost_its_space_still_matches() -> None:
    """Editors strip the lone space of blank context lines; the line is still context."""
    files = {"m.py": b"x\n\ny\n"}
    patch = b"--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n x\n\n-y\n+z\n"
    assert apply_patch(files, patch)["m.py"] == b"x\n\nz\n"


# ------------------------------------------------------------------------------- refusing


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (b"--- a/layers.py\n+++ b/layers.py\n@@ -3 +3 @@\n-X\n+C\n", "line 3 does not match"),
        (b"--- a/layers.py\n+++ b/layers.py\n@@ -2,2 +2,2 @@\n c\n-d\n+D\n", "does not match"),
        (b"--- a/layers.py\n+++ b/layers.py\n@@ -40 +40 @@\n-h\n+H\n", "out of range"),
        (b"--- a/layers.py\n+++ b/layers.py\n@@ -1,3 +1,3 @@\n a\n-b\n", "cut short"),
        (b"--- a/layers.py\n+++ b/layers.py\n@@ -1 +1 @@\n-a\n+A\n+extra\n", "outside any hunk"),
        (b"--- a/layers.py\n+++ b/layers.py\n@@ -3 +3 @@\n-c\n+C\n@@ -1 +1 @@\n", "overlaps"),
        (b"--- a/layers.py\n+++ b/layers.py\nnot a hunk\n", "no hunk"),
        (b"--- a/layers.py\nnot the new name\n", "is not followed by"),
        (b"--- a/layers.py\n+++ b/model.py\n@@ -1 +1 @@\n-a\n+A\n", "names differ"),
        (b"just some text\n", "not a unified diff"),
        (b"", "not a unified diff"),
        (b"--- a/other.py\n+++ b/other.py\n@@ -1 +1 @@\n-a\n+A\n", "not a solution file"),
        (b"--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x\n", "unsafe file name"),
        (b"--- a/../x.py\n+++ b/../x.py\n@@ -1 +1 @@\n-a\n+A\n", "unsafe file name"),
        (b"--- ../x.py\n+++ ../x.py\n@@ -1 +1 @@\n-a\n+A\n", "unsafe file name"),
        (b"--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+A\n", "unsafe file name"),
        (
            b"--- a/model.py\n+++ b/model.py\n@@ -1 +1 @@\n-one\n+x\n\\ No newline at end of file\n"
            b"+y\n",
            "before the last line",
        ),
        (b"--- a/model.py\n+++ b/model.py\n@@ -" + b"9" * 5000 + b" +1 @@\n", "no hunk"),
    ],
    ids=[
        "wrong-removed-line",
        "wrong-context",
        "hunk-past-the-end",
        "hunk-cut-short",
        "counts-too-small",
        "hunks-out-of-order",
        "header-without-hunk",
        "missing-new-header",
        "rename",
        "free-text",
        "empty",
        "unknown-file",
        "new-file",
        "traversal-prefixed",
        "traversal",
        "absolute",
        "no-newline-mid-file",
        "huge-line-number",
    ],
)
def test_bad_patches_are_refused(patch: bytes, message: str) -> None:
    with pytest.raises(PackageError, match=message):
        apply_patch(FILES, patch)


def test_the_same_file_twice_is_refused() -> None:
    one = diff("model.py", FILES["model.py"], b"one\n2\n")
    with pytest.raises(PackageError, match="appears twice"):
        apply_patch(FILES, one + one)


def test_huge_line_numbers_cost_nothing() -> None:
    """Counts and line numbers come from the patch: they must not drive the work."""
    patch = b"--- a/model.py\n+++ b/model.py\n@@ -1,999999999 +1,999999999 @@\n one\n"
    with pytest.raises(PackageError, match="cut short"):
        apply_patch(FILES, patch)


# ------------------------------------------------------------------------------- packages


def test_patch_and_folder_mutants_load_side_by_side(tmp_path: Path) -> None:
    """A package may mix both forms; mutants() gives full file sets either way."""
    patch = diff("ops.py", OPS, RELU_BUG)
    root = toy_with(tmp_path, {"relu_ge": patch}, {"add_minus": OPS.replace(b"a + b", b"a - b")})
    mutants = load_package(root).mutants()
    assert sorted(mutants) == ["add_minus", "relu_ge"]
    assert mutants["relu_ge"] == {"ops.py": RELU_BUG}
    assert b"a - b" in mutants["add_minus"]["ops.py"]


def test_folder_mutants_alone_still_work(tmp_path: Path) -> None:
    root = toy_with(tmp_path, {}, {"add_minus": OPS.replace(b"a + b", b"a - b")})
    assert list(load_package(root).mutants()) == ["add_minus"]


def test_a_name_in_both_forms_is_refused(tmp_path: Path) -> None:
    root = toy_with(tmp_path, {"relu_ge": diff("ops.py", OPS, RELU_BUG)}, {"relu_ge": RELU_BUG})
    with pytest.raises(PackageError, match="mutant relu_ge: both"):
        load_package(root)


@pytest.mark.parametrize(
    "patch",
    [
        diff("ops.py", OPS.replace(b"a + b", b"b + a"), RELU_BUG),  # stale context
        diff("ops.py", OPS, RELU_BUG).replace(b"ops.py", b"../ops.py"),
        diff("ops.py", OPS, RELU_BUG).replace(b"ops.py", b"layers.py"),
        b"relu should use >=\n",
    ],
    ids=["does-not-apply", "traversal", "unknown-file", "not-a-diff"],
)
def test_a_bad_patch_fails_the_package_load_naming_the_mutant(tmp_path: Path, patch) -> None:
    """Validation happens when the package is loaded: one line that names the mutant."""
    root = toy_with(tmp_path, {"relu_ge": patch}, {})
    with pytest.raises(PackageError, match=r"^mutant relu_ge\.patch: ") as caught:
        load_package(root)
    assert "\n" not in str(caught.value)


def test_a_zipped_package_with_a_patch_loads(tmp_path: Path) -> None:
    """Packages arrive as zips too; the patch is read from the zip like any member."""
    root = toy_with(tmp_path, {"relu_ge": diff("ops.py", OPS, RELU_BUG)}, {})
    archive = tmp_path / "toy.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(root).as_posix())
    assert load_package(archive.read_bytes()).mutants()["relu_ge"] == {"ops.py": RELU_BUG}


def test_the_course_packages_load_with_their_patch_mutants() -> None:
    """The shipped assignments keep their mutants in patch form and they all apply."""
    root = Path(__file__).resolve().parents[2] / "assignments"
    for slug in ("backprop", "cnn", "optimizers", "rnn"):
        patches = sorted(p.stem for p in (root / slug / "mutants").glob("*.patch"))
        assert patches and sorted(load_package(root / slug).mutants()) == patches


def test_the_work_patches_may_ask_for_is_capped(tmp_path: Path, monkeypatch) -> None:
    """Each patch costs the size of the files it rebuilds; past the cap the load fails."""
    monkeypatch.setattr("grader.package.MAX_MUTANT_BYTES", len(OPS) * 2)
    patch = diff("ops.py", OPS, RELU_BUG)
    load_package(toy_with(tmp_path / "two", {"m1": patch, "m2": patch}, {}))
    with pytest.raises(PackageError, match="mutant m3.patch: the patches rebuild more than"):
        load_package(toy_with(tmp_path / "three", {"m1": patch, "m2": patch, "m3": patch}, {}))
