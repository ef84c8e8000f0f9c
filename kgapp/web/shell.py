"""The page shell of entity.html (base.html around a page's title, alternates and body), rendered by Jinja
once per app and mount point and filled in per page: the same bytes as ``render_template`` at a tenth of its cost.

Jinja renders the shell with marker strings in place of the title, one alternate link and the body; the
shell is cut at those markers, and a page's text goes in escaped as Jinja escapes it (markupsafe's five
entities, kgapp.web.fragments.e). tests/web/test_shell.py holds the result equal to render_template's.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template, request
from markupsafe import Markup

from kgapp.web.fragments import e

_TITLE, _TYPE, _URL, _BODY = "kgappShellTitle", "kgappShellType", "kgappShellUrl", "kgappShellBody"


@dataclass(frozen=True)
class _Alternate:
    kind: str
    media_type: str


@dataclass(frozen=True)
class Shell:
    head: str  # up to the title
    middle: str  # between the title and the alternate links
    link: tuple[str, str, str]  # one alternate link around its media type and URL
    foot: str  # between the alternate links and the body
    end: str  # after the body

    def fill(self, title: str, body: Markup, alternates: list) -> str:
        before, between, after = self.link
        links = "".join(f"{before}{e(f.media_type)}{between}{e(url)}{after}" for f, url in alternates
                        if f.kind != "html")
        return f"{self.head}{e(title)}{self.middle}{links}{self.foot}{body}{self.end}"


def _cut(text: str, marker: str) -> tuple[str, str]:
    before, found, after = text.partition(marker)
    if not found or marker in after:
        raise ValueError(f"the entity page template must show {marker} exactly once")
    return before, after


def _render() -> Shell:
    text = render_template("entity.html", title=_TITLE, body=Markup(_BODY), alternates=[(_Alternate("x", _TYPE), _URL)])
    head, rest = _cut(text, _TITLE)
    middle_and_link, rest = _cut(rest, _URL)
    middle_and_before, between = _cut(middle_and_link, _TYPE)
    after_and_foot, end = _cut(rest, _BODY)
    # The alternate link is the loop's one line: it starts at the newline before "<link rel=alternate" and ends at ">".
    start = middle_and_before.rindex("\n<link")
    close = after_and_foot.index(">") + 1
    return Shell(head, middle_and_before[:start], (middle_and_before[start:], between, after_and_foot[:close]),
                 after_and_foot[close:], end)


def entity_html(title: str, body: Markup, alternates: list) -> str:
    """What ``render_template("entity.html", title=…, body=…, alternates=…)`` gives, from the app's shell."""
    shells: dict[str, Shell] = current_app.extensions.setdefault("kgapp.shell", {})
    root = request.script_root
    shell = shells.get(root)
    if shell is None:
        shell = shells[root] = _render()
    return shell.fill(title, body, alternates)
