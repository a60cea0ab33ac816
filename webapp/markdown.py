"""Markdown-lite for handouts: everything is escaped first, then a few constructs become tags.

Supported: # headings, --- rules, ``` fenced code, - / * / 1. lists, | tables (kept as preformatted
text), paragraphs, `code`, **bold**, *emphasis*, [text](https://...) links. No raw HTML ever
passes through, so this is safe on text from any author.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
CODE_SPAN = re.compile(r"`([^`]+)`")
BOLD = re.compile(r"\*\*(.+?)\*\*")
EMPHASIS = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")
RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


def inline(text: str) -> str:
    """Escape a line of text and apply the inline constructs; code spans are kept verbatim."""
    spans: list[str] = []

    def stash(match: re.Match[str]) -> str:
        spans.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(spans) - 1}\x00"

    out = CODE_SPAN.sub(stash, str(escape(text.replace("\x00", ""))))
    out = LINK.sub(r'<a href="\2" rel="noopener noreferrer">\1</a>', out)
    out = BOLD.sub(r"<strong>\1</strong>", out)
    out = EMPHASIS.sub(r"<em>\1</em>", out)
    return PLACEHOLDER.sub(lambda m: spans[int(m.group(1))], out)


def _fenced(lines: list[str], i: int) -> tuple[str, int]:
    """A ``` block starting at line i: (html, index after the closing fence)."""
    body = []
    i += 1
    while i < len(lines) and not lines[i].strip().startswith("```"):
        body.append(lines[i])
        i += 1
    return f"<pre><code>{escape(chr(10).join(body))}</code></pre>", i + 1


def _run(lines: list[str], i: int, accepts: re.Pattern[str] | None, table: bool = False) -> int:
    """Index just past the run of lines starting at i that match `accepts` (or start with |)."""
    while i < len(lines):
        line = lines[i]
        if (table and not line.lstrip().startswith("|")) or (accepts and not accepts.match(line)):
            break
        i += 1
    return i


def _block(lines: list[str], i: int) -> tuple[str, int]:
    """Render the block starting at line i; return (html, next index)."""
    line = lines[i]
    if line.strip().startswith("```"):
        return _fenced(lines, i)
    if RULE.match(line):
        return "<hr>", i + 1
    if heading := HEADING.match(line):
        level = len(heading.group(1))
        return f"<h{level}>{inline(heading.group(2))}</h{level}>", i + 1
    for pattern, tag in ((BULLET, "ul"), (NUMBERED, "ol")):
        if pattern.match(line):
            end = _run(lines, i, pattern)
            items = "".join(f"<li>{inline(pattern.match(x).group(1))}</li>" for x in lines[i:end])
            return f"<{tag}>{items}</{tag}>", end
    if line.lstrip().startswith("|"):
        end = _run(lines, i, None, table=True)
        return f"<pre>{escape(chr(10).join(lines[i:end]))}</pre>", end
    end = i + 1
    while end < len(lines) and lines[end].strip() and not _starts_block(lines[end]):
        end += 1
    return f"<p>{' '.join(inline(x.strip()) for x in lines[i:end])}</p>", end


def _starts_block(line: str) -> bool:
    stripped = line.lstrip()
    return bool(
        stripped.startswith(("```", "|"))
        or HEADING.match(line)
        or BULLET.match(line)
        or NUMBERED.match(line)
    )


def render_markdown(text: str) -> Markup:
    """Safe HTML for a handout written in Markdown-lite."""
    lines = text.replace("\r\n", "\n").split("\n")
    html, i = [], 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block, i = _block(lines, i)
        html.append(block)
    return Markup("\n".join(html))  # noqa: S704 - every piece above was escaped
