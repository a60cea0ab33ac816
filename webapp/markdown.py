"""Handouts: CommonMark (markdown-it-py) with tables and $math$, then an allowlist sanitiser.

Raw HTML in the text is never parsed as HTML (``html=False``: it comes out as text), and the
rendered HTML is passed through nh3 (ammonia) allowing only the tags and attributes the renderer
itself produces, so a bug in either layer alone cannot put markup from an author on the page.
The page's CSP forbids inline style, so table alignment becomes an ``align-*`` class. Math
becomes ``<span class="math">`` ($...$) or ``<div class="math">`` ($$...$$) holding the TeX source
as text; ``static/math.js`` typesets it with the vendored KaTeX. Images become links labelled
with their alt text: the CSP blocks external images (and they would tell a third party who
reads the handout), and a suite's files are not served, so a relative one would be broken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin

ALIGN_CLASSES = {"align-left", "align-center", "align-right"}

CLEANER = nh3.Cleaner(
    tags={
        *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote"),
        *("a", "code", "pre", "em", "strong", "ul", "ol", "li"),
        *("table", "thead", "tbody", "tr", "th", "td", "span", "div"),
    },
    attributes={"a": {"href", "title"}, "ol": {"start"}},
    allowed_classes={
        "th": ALIGN_CLASSES,
        "td": ALIGN_CLASSES,
        "span": {"math"},
        "div": {"math"},
    },
    url_schemes={"http", "https", "mailto"},  # relative links pass; javascript: etc. do not
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def _alignment_as_class(state: StateCore) -> None:
    """markdown-it aligns table cells with style="text-align:x"; use class="align-x" instead."""
    for token in state.tokens:
        style = token.attrs.pop("style", None) if token.type in ("th_open", "td_open") else None
        if isinstance(style, str) and style.startswith("text-align:"):
            token.attrSet("class", "align-" + style.removeprefix("text-align:"))


def _headings_one_level_down(state: StateCore) -> None:
    """A handout's "# Title" sits under the page's own <h1> and its "Handout" <h2>: h1 becomes
    h2, ... h5 becomes h6 (h6 stays), so each page has one h1."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close") and token.tag != "h6":
            token.tag = f"h{int(token.tag[1]) + 1}"


def _image_as_link(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """![alt](src) becomes <a href="src">alt</a> (see the module docstring)."""
    image = tokens[idx]
    alt = renderer.renderInlineAsText(image.children or [], options, env) or "image"
    return f'<a href="{escapeHtml(str(image.attrGet("src") or ""))}">{escapeHtml(alt)}</a>'


def _math(tag: str) -> Callable[..., str]:
    """A render rule: the TeX source as text in <tag class="math"> (the plugin's own rules add
    an "inline" class, which the site's stylesheet already uses for flex rows)."""

    def render(renderer: RendererHTML, tokens: Sequence[Token], idx: int, *_: object) -> str:
        tex = escapeHtml(tokens[idx].content.strip())
        return f'<{tag} class="math">{tex}</{tag}>' + ("\n" if tag == "div" else "")

    return render


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("image", _image_as_link)
    # "costs $5 and $10" stays text; $$ on its own lines is display math.
    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False)
    md.add_render_rule("math_inline", _math("span"))
    md.add_render_rule("math_block", _math("div"))
    md.core.ruler.push("alignment_as_class", _alignment_as_class)
    md.core.ruler.push("headings_one_level_down", _headings_one_level_down)
    return md


PARSER = _parser()


@lru_cache(maxsize=64)  # a handout renders on every view of its page (~50 ms); suites rarely change
def render_markdown(text: str) -> Markup:
    """Safe HTML for a handout written in Markdown (CommonMark, tables, $ and $$ math)."""
    html = CLEANER.clean(PARSER.render(text))
    return Markup(html)  # noqa: S704 - sanitised by the allowlist above
