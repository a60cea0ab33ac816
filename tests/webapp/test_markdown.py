"""Markdown-lite: the handout constructs render, and no HTML from the text ever survives."""

from __future__ import annotations

from webapp.markdown import render_markdown


def test_blocks_and_inline():
    html = render_markdown(
        "## Task\n\nWrite **fast** and *clean* code, see [docs](https://numpy.org/doc/).\n"
        "- one\n- two `x`\n\n1. first\n2. second\n\n```python\nprint(1 < 2)\n```\n"
    )
    assert "<h2>Task</h2>" in html
    assert "<strong>fast</strong>" in html and "<em>clean</em>" in html
    assert '<a href="https://numpy.org/doc/" rel="noopener noreferrer">docs</a>' in html
    assert "<ul><li>one</li><li>two <code>x</code></li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<pre><code>print(1 &lt; 2)</code></pre>" in html


def test_bold_around_code_and_rules():
    """Emphasis may wrap code spans (whose stars stay literal); --- is a rule, not a list."""
    html = render_markdown("**Submit `a*b.py` and `c.py`.**\n\n---\n\n* * *\n")
    assert "<p><strong>Submit <code>a*b.py</code> and <code>c.py</code>.</strong></p>" in html
    assert html.count("<hr>") == 2 and "<ul>" not in html


def test_nothing_raw_gets_through():
    """Tags, attributes and script URLs in any construct come out as text."""
    html = render_markdown(
        "<img src=x onerror=alert(1)>\n# <b>h</b>\n- <i>x</i>\n"
        '[click](javascript:alert(1)) [q](https://a.b/"onmouseover=x)\n`<code>`\n'
        "```\n</pre><script>x</script>\n```\n| <td> |\n"
    )
    assert "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "<script>" not in html and "<td>" not in html
    assert 'href="javascript' not in html
    assert '"onmouseover' not in html
    assert html.count("<pre>") == 2 and html.count("</pre>") == 2
