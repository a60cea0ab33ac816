"""Turn whole-file mutant folders into mutants/<name>.patch (staff only, one-off).

Run: python assignments/tools/to_patches.py assignments/backprop [more packages...]
     python assignments/tools/to_patches.py --check assignments/backprop  # write nothing

For each mutants/<name>/ folder, the patch is the unified diff (3 lines of context) of
solution -> mutant for every file that differs. Every patch is applied with the grader's own
applier and compared byte for byte with the folder laid over the solution; only when all
mutants of a package match are the patches written and the folders removed.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from grader.package import apply_patch  # noqa: E402

NO_NEWLINE = "\\ No newline at end of file\n"


def file_diff(name: str, old: bytes, new: bytes) -> str:
    """`diff -u a/name b/name`, with the marker for a last line that has no newline."""
    lines = difflib.unified_diff(
        old.decode("utf-8").splitlines(keepends=True),
        new.decode("utf-8").splitlines(keepends=True),
        f"a/{name}",
        f"b/{name}",
        n=3,
    )
    return "".join(line if line.endswith("\n") else line + "\n" + NO_NEWLINE for line in lines)


def mutant_patch(solution: dict[str, bytes], folder: Path) -> str:
    """The patch for one mutant folder; every file in it must be a solution file."""
    parts = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name not in solution:
            raise SystemExit(f"{folder}: {path.name} is not in solution/; convert it by hand")
        if path.read_bytes() != solution[path.name]:
            parts.append(file_diff(path.name, solution[path.name], path.read_bytes()))
    if not parts:
        raise SystemExit(f"{folder}: no file differs from the solution")
    return "".join(parts)


def convert(package: Path, write: bool) -> int:
    """Convert every mutant folder of `package`; return how many."""
    solution = {p.name: p.read_bytes() for p in (package / "solution").iterdir() if p.is_file()}
    folders = sorted(p for p in (package / "mutants").iterdir() if p.is_dir())
    patches = {}
    for folder in folders:
        text = mutant_patch(solution, folder)
        expected = {**solution, **{p.name: p.read_bytes() for p in folder.iterdir()}}
        if apply_patch(solution, text.encode("utf-8")) != expected:
            raise SystemExit(f"{folder}: the patch does not reproduce the folder; nothing written")
        patches[folder] = text
    if write:
        for folder, text in patches.items():
            folder.with_suffix(".patch").write_text(text, encoding="utf-8", newline="")
            shutil.rmtree(folder)
    return len(patches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="verify only; write nothing")
    args = parser.parse_args()
    for package in args.packages:
        count = convert(package, write=not args.check)
        verb = "verified" if args.check else "converted"
        print(f"{package}: {count} mutants {verb} byte-identical")


if __name__ == "__main__":
    main()
