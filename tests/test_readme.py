"""The README and the app agree: every route and setting it names exists, and every route is in it."""

from __future__ import annotations

import re
from dataclasses import fields

from paths import README as README_PATH

from kgapp.config import Config

README = README_PATH.read_text(encoding="utf-8")
# Routes the README need not name: Flask's static files and the per-format twins of named routes.
UNLISTED = {"/static/<path:filename>"}


def documented_paths() -> set[str]:
    """Paths written in backticks in the README (``/sparql``, ``/id/…``, ``/export.ttl``…)."""
    found = set()
    for code in re.findall(r"`([^`\n]+)`", README):
        if code == "/":
            found.add("/")
        for m in re.finditer(r"(?<![\w.:/])(/[A-Za-z_.\-][\w.\-/]*)", code):
            found.add(m.group(1).rstrip("."))
    return found


def route_prefix(rule: str) -> str:
    """The literal start of a rule: /id/<path:rest> → /id/, /export.<ext> → /export."""
    return rule.split("<", 1)[0]


def test_every_route_of_the_app_is_in_the_readme(app):
    paths = documented_paths()
    missing = [r.rule for r in app.url_map.iter_rules() if r.rule not in UNLISTED
               and not any(p == r.rule or (route_prefix(r.rule) != r.rule and p.startswith(route_prefix(r.rule)))
                           for p in paths)]
    assert missing == []


def test_every_path_the_readme_names_is_served(client):
    rules = [r.rule for r in client.application.url_map.iter_rules()]
    unknown = [p for p in documented_paths()
               if p.startswith(("/sparql", "/id/", "/resource", "/search", "/validation", "/export", "/.well-known",
                                "/healthz", "/readyz", "/class", "/void", "/check", "/compare", "/metrics"))
               and not p.startswith("/sparql-")  # a SPARQL server's URL in the store examples
               and not any(p == r or (route_prefix(r) != r and p.startswith(route_prefix(r))) for r in rules)]
    assert unknown == []


def test_every_setting_the_readme_names_exists_and_every_setting_is_named():
    names = {f.name for f in fields(Config)} - {"testing", "data_dirs"}
    named_env = set(re.findall(r"KGAPP_([A-Z_]+)", README)) - {"STORE_USER", "STORE_PASSWORD"}
    assert {n.lower() for n in named_env} <= names | {"store"}
    assert [n for n in sorted(names) if f"KGAPP_{n.upper()}" not in README and f"`{n}`" not in README] == []


def test_the_route_check_can_fail():
    assert route_prefix("/id/<path:rest>") == "/id/" and route_prefix("/sparql") == "/sparql"
    assert "/nonexistent-route" not in documented_paths()
