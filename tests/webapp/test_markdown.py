"""Handout Markdown: CommonMark with tables and math renders, and no markup from the author,
whatever they write, reaches the page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.markdown import render_markdown

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"
HANDOUTS = sorted(ASSIGNMENTS.glob("*/README.md"))
ALLOWED_TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "a", "code", "pre"),
    *("em", "strong", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td"),
    *("span", "div"),
}
# An href is harmless when it is http(s) or mailto, or has no scheme at all (a relative URL):
# a scheme is letters, digits, "+", "-", "." from the first character to a colon (WHATWG URL
# parsing), so "%3Ejavascript:x" is a relative path while "JavaScript:x" is a scheme.
SAFE_HREF = re.compile(r"(?:https?:|mailto:|(?![a-z][a-z0-9+.\-]*:))", re.IGNORECASE)


class Tags(HTMLParser):
    """Every start tag of a fragment with its attributes (entities decoded, as a browser does)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_harmless(html: str) -> None:
    assert "<script" not in html.lower()
    for tag, attrs in Tags(html).tags:
        assert tag in ALLOWED_TAGS, tag
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert "style" not in attrs and "id" not in attrs, (tag, attrs)
        href = re.sub(r"[\x00-\x20]", "", attrs.get("href") or "")
        assert SAFE_HREF.match(href), href


def test_blocks_and_inline():
    html = render_markdown(
        "## Task\n\nWrite **fast** and *clean* code, see [docs](https://numpy.org/doc/).\n\n"
        "- one\n- two `x`\n\n1. first\n2. second\n\n```python\nprint(1 < 2)\n```\n\n> note\n"
    )
    assert "<h3>Task</h3>" in html  # one level down: see the headings test
    assert "<strong>fast</strong>" in html and "<em>clean</em>" in html
    assert '<a href="https://numpy.org/doc/" rel="noopener noreferrer">docs</a>' in html
    assert "<li>two <code>x</code></li>" in html and "<ol>\n<li>first</li>" in html
    assert "<pre><code>print(1 &lt; 2)\n</code></pre>" in html
    assert "<blockquote>\n<p>note</p>\n</blockquote>" in html


def test_headings_go_one_level_down_so_the_page_keeps_one_h1():
    """The handout's "# Title" renders as <h2> (the page has its own <h1>); h6 stays h6."""
    html = render_markdown("# Title\n\n## Part\n\n##### Five\n\n###### Six\n")
    assert "<h2>Title</h2>" in html and "<h3>Part</h3>" in html
    assert "<h6>Five</h6>" in html and "<h6>Six</h6>" in html and "<h1>" not in html


def test_bold_around_code_and_rules():
    """Emphasis may wrap code spans (whose stars stay literal); --- is a rule, not a list."""
    html = render_markdown("**Submit `a*b.py` and `c.py`.**\n\n---\n\n* * *\n")
    assert "<p><strong>Submit <code>a*b.py</code> and <code>c.py</code>.</strong></p>" in html
    assert html.count("<hr>") == 2 and "<ul>" not in html


def test_tables_render_as_tables_aligned_by_class():
    """A pipe table is a <table>; alignment is a class, since the CSP forbids inline style."""
    html = render_markdown("| Name | Shape |\n|:--|--:|\n| `x` | (N, D) |\n| `W \\| b` | 2 |\n")
    assert "<table>" in html and html.count("<tr>") == 3
    assert '<th class="align-left">Name</th>' in html
    assert '<td class="align-right">(N, D)</td>' in html
    assert '<td class="align-left"><code>W | b</code></td>' in html
    assert "style=" not in html and "|" not in html.replace("W | b", "")


def test_a_code_span_wrapped_over_two_lines_is_one_code_element():
    html = render_markdown("Run `DLGRADER_IMPL_DIR=/path python -m\npytest public_tests -q`.\n")
    assert "<code>DLGRADER_IMPL_DIR=/path python -m pytest public_tests -q</code>" in html
    assert "`" not in html


def test_math_becomes_elements_for_katex_holding_the_tex_as_text():
    html = render_markdown(
        "Loss $L = -\\sum_i y_i \\log p_i$ for $p < 1$.\n\n$$\n\\frac{a}{b}\n$$\n"
    )
    assert '<span class="math">L = -\\sum_i y_i \\log p_i</span>' in html
    assert '<span class="math">p &lt; 1</span>' in html
    assert '<div class="math">\\frac{a}{b}</div>' in html


def test_prices_and_code_are_not_math():
    html = render_markdown("It costs $5 and $10 a month; `echo $HOME$PATH`.\n")
    assert "math" not in html and "<code>echo $HOME$PATH</code>" in html


def test_nothing_raw_gets_through():
    """Tags, attributes and script URLs in any construct come out as text or not at all."""
    html = render_markdown(
        "<img src=x onerror=alert(1)>\n# <b>h</b>\n- <i>x</i>\n\n"
        '[click](javascript:alert(1)) [q](https://a.b/"onmouseover=x) ![i](javascript:x)\n'
        "<iframe src=//evil></iframe> `<code>` $<script>x</script>$\n\n"
        "```\n</pre><script>x</script>\n```\n\n| <td> |\n|--|\n| <a href=x> |\n"
    )
    assert_harmless(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;iframe" in html
    assert "<b>" not in html and "<i>" not in html and "<th>&lt;td&gt;</th>" in html
    assert 'href="javascript' not in html and '"onmouseover' not in html
    assert html.count("<pre>") == 1 and html.count("</pre>") == 1


def test_images_become_links_labelled_with_their_alt_text():
    """No <img>: the CSP blocks external images, and a suite's files are not served."""
    html = render_markdown("![the MLP](https://example.org/mlp.png)\n")
    assert '<a href="https://example.org/mlp.png" rel="noopener noreferrer">the MLP</a>' in html
    assert "<img" not in html


PIECES = st.sampled_from(
    [
        "<script>",
        "</script>",
        "<img src=x onerror=alert(1)>",
        "<a href='javascript:alert(1)'>",
        " onload=",
        "javascript:alert(1)",
        "JaVaScRiPt&#58;x",
        "&#x6A;avascript:x",
        "[a](",
        "![b](",
        "](",
        ")",
        "<",
        ">",
        '"',
        "'",
        "`",
        "$",
        "$$",
        "\n",
        "\n\n",
        "| ",
        "|--|\n",
        "---\n",
        "```\n",
        "    ",
        "<style>",
        "<svg/onload=x>",
        "\\",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=40).map("".join))
def test_any_text_renders_to_harmless_html(text):
    """Whatever an author writes: only allowed tags, no script, no on* attribute, no
    javascript: (or any other non-web) link."""
    assert_harmless(render_markdown(text))


@pytest.mark.parametrize("handout", HANDOUTS, ids=lambda path: path.parent.name)
def test_the_real_handouts_render_with_no_markdown_left_over(handout):
    """Every table of the four handouts is a <table>; no pipe rows or backticks are left."""
    html = str(render_markdown(handout.read_text(encoding="utf-8")))
    assert_harmless(html)
    assert "<table>" in html
    prose = "".join(Tags(re.sub(r"<pre>.*?</pre>", "", html, flags=re.DOTALL)).text)
    assert not [line for line in prose.splitlines() if line.lstrip().startswith("|")]
    assert "`" not in prose


def test_the_assignment_page_shows_the_handout_first_with_katex_from_static(client, auth, make):
    """The handout comes before the form and the submissions (links above it lead to the form
    and the latest submission), and every script and stylesheet, KaTeX's too, is the app's own."""
    alice = make.user("alice")
    toy = make.assignment("toy", package=make.package(handout="# Toy\n\nMinimise $L(\\theta)$.\n"))
    sub_id = make.submission(alice, toy)
    auth.login("alice")
    html = client.get("/assignments/toy").get_data(as_text=True)
    assert '<span class="math">L(\\theta)</span>' in html
    order = ['href="#submit-heading"', f'href="/submissions/{sub_id}"', 'id="handout-heading"']
    order += ['id="submit-heading"', 'id="mine-heading"']
    assert sorted(order, key=html.index) == order
    assets = [
        attrs.get("src") or attrs.get("href") or ""
        for tag, attrs in Tags(html).tags
        if tag == "script" or (tag == "link" and attrs.get("rel") == "stylesheet")
    ]
    assert "/static/vendor/katex/katex.min.js" in assets and "/static/math.js" in assets
    assert "/static/vendor/katex/katex.min.css" in assets
    assert all(url.startswith("/static/") for url in assets), assets
    assert "<style" not in html and " style=" not in html


def test_a_link_whose_text_only_looks_like_a_scheme_is_a_relative_path():
    """Found by hypothesis: "[a](>javascript:alert(1))" renders href="%3Ejavascript:...",
    which a browser resolves as a relative path; a real javascript: link is not a link."""
    assert 'href="%3Ejavascript:alert(1)"' in render_markdown("[a](>javascript:alert(1))")
    assert "href" not in render_markdown("[a](javascript:alert(1))")
    assert SAFE_HREF.match("%3Ejavascript:alert(1)") and SAFE_HREF.match("/docs/a:b")
    assert SAFE_HREF.match("JaVaScRiPt:alert(1)") is None and SAFE_HREF.match("a:b") is None
