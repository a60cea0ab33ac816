"""safe_next: after login only a path on this site is followed, whatever `next` holds."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from webapp.redirects import safe_next

HOME = "/assignments"
# Text built mostly from the characters that make redirects go astray.
TRICKY = st.text(
    alphabet=st.sampled_from(["/", "\\", "\t", "\n", "\r", " ", ":", "@", ".", "%", "e", "x"])
    | st.characters(),
    max_size=30,
)


def is_safe(result: str) -> bool:
    parts = urlsplit(result)
    return (
        result.startswith("/")
        and not result.startswith(("//", "/\\"))
        and "\\" not in result
        and not any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in result)
        and not parts.scheme
        and not parts.netloc
    )


@given(st.one_of(st.text(), TRICKY, st.none()))
@example("/\t/evil.example")
@example("/\r/x")
@example("/\\evil.example")
@example("\\\\evil.example")
@example("https://evil.example/")
@example("/%09/evil.example")
def test_result_is_home_or_a_local_path(target):
    """For any input: the home URL, or a single-slash path with no controls, spaces,
    backslashes, scheme or host."""
    result = safe_next(target, HOME)
    assert result == HOME or is_safe(result)


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",  # browsers drop the tab: //evil.example
        "/\n/evil.example",
        "/\r/x",  # a CR in the Location header was a 500
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
        " /assignments",
        "/assignments\x00",
        "/assignments\u2028",
        "",
        None,
    ],
)
def test_unsafe_targets_go_home(target):
    """Each known way out of the site (or into a broken header) goes to the home page."""
    assert safe_next(target, HOME) == HOME


@pytest.mark.parametrize(
    "target",
    ["/assignments/toy", "/submissions/3?tab=cases", "/%09/x", "/a/b#frag", "/account"],
)
def test_local_paths_are_kept(target):
    """Paths on this site, percent-escapes and queries included, are followed as given."""
    assert safe_next(target, HOME) == target
