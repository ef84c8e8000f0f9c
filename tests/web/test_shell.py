"""The entity page shell filled in per page gives the bytes Jinja's render_template gives."""

from __future__ import annotations

from flask import render_template, request
from markupsafe import Markup

from kgapp.formats import BY_NAME
from kgapp.web.negotiate import PAGE_FORMATS
from kgapp.web.shell import entity_html

TITLES = ["CPT 64868 Facial–hypoglossal anastomosis", "a <b> & \"c\" 'd'", "", "kgappShell"]


def test_the_filled_shell_is_what_jinja_renders(app):
    with app.test_request_context("/id/code/cpt/64868"):
        for title in TITLES:
            for alternates in ([], [(f, f"/id/x.{f.extension}?a=1&b=<2>") for f in PAGE_FORMATS],
                               [(BY_NAME["html"], "/h"), (BY_NAME["turtle"], "/t")]):
                body = Markup('\n<article class="entity"><h1>x &amp; y</h1></article>\n')
                assert entity_html(title, body, alternates) == render_template(
                    "entity.html", title=title, body=body, alternates=alternates)


def test_a_mount_point_gets_its_own_shell(app):
    for root in ("", "/kg"):
        with app.test_request_context("/id/code/cpt/64868", base_url=f"http://localhost{root}/"):
            assert request.script_root == root
            body = Markup("<p>b</p>")
            assert entity_html("t", body, []) == render_template("entity.html", title="t", body=body, alternates=[])
