"""The /check surface: a claim line in (query string, form or JSON), findings out as a page or JSON."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from kgapp.check import ClaimError, check_claim, load_rules, parse_claim
from kgapp.formats import BY_NAME, best_format
from kgapp.read.labels import labels
from kgapp.web.context import get_store
from kgapp.web.negotiate import page

bp = Blueprint("check", __name__)
FIELDS = ("code", "modifier", "modifiers", "pos", "payer", "dx", "format")
EXAMPLES = [
    {"code": "64868", "modifier": "50", "pos": "22", "payer": "aetna", "dx": "G51.0 R29.810"},
    {"code": "64612", "modifier": "LT RT", "pos": "11", "payer": "cigna", "dx": "G51.31"},
    {"code": "64600", "modifier": "24", "pos": "24", "payer": "medicare", "dx": "S04.31 G50.0"},
]


def wants_json() -> bool:
    if request.args.get("format") == "json" or request.is_json:
        return True
    return best_format(request.headers.get("Accept"), (BY_NAME["html"], BY_NAME["json"])) is BY_NAME["json"]


def _fields() -> dict[str, Any]:
    """The claim's fields from a JSON body, a form or the query string; unknown fields are refused."""
    if request.method == "POST" and request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ClaimError("the JSON body must be an object with the fields code, modifiers, pos, payer, dx")
        given: dict[str, Any] = dict(body)
    else:
        source = request.form if request.method == "POST" else request.args
        given = {k: source.getlist(k) if k in ("modifier", "modifiers", "dx") else source.get(k) for k in source}
    unknown = sorted(set(given) - set(FIELDS))
    if unknown:
        raise ClaimError(f"unknown field(s) {', '.join(unknown)}; a claim line has {', '.join(FIELDS[:-1])}")
    return given


def _mods(given: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key in ("modifier", "modifiers"):
        value = given.get(key)
        out += [value] if isinstance(value, str) else list(value or [])
    return out


@bp.route("/check", methods=["GET", "POST"])
def check() -> Any:
    given = _fields()
    form = {"code": given.get("code") or "", "modifier": " ".join(_mods(given)), "pos": given.get("pos") or "",
            "payer": given.get("payer") or "",
            "dx": " ".join([given["dx"]] if isinstance(given.get("dx"), str) else given.get("dx") or [])}
    if request.method == "GET" and not given and not wants_json():
        return page("check.html", form=form, result=None, names={}, examples=EXAMPLES)
    claim = parse_claim(given.get("code"), _mods(given), given.get("pos"), given.get("payer"), given.get("dx"))
    result = check_claim(get_store(), claim)
    if wants_json():
        return jsonify(result.as_dict())
    iris = {i for f in result.findings for i in f.facts + f.sources}
    return page("check.html", form=form, result=result, names=labels(get_store(), iris), examples=EXAMPLES)


@bp.route("/check/rules")
def rules() -> Any:
    listed = [{"id": r.id, "severity": r.severity, "title": r.title, "checks": r.checks, "uses": r.uses,
               "needs": list(r.needs)} for r in load_rules()]
    if wants_json():
        return jsonify(rules=listed)
    return page("check_rules.html", rules=listed)


@bp.errorhandler(ClaimError)
def bad_claim(error: ClaimError) -> Response | tuple[str, int]:
    """Bad input is a 400 that says which field is wrong: JSON for programs, the form again for people."""
    if wants_json():
        response = jsonify(error=error.message)
        response.status_code = 400
        return response
    return page("check.html", 400, form={k: request.values.get(k, "") for k in ("code", "pos", "payer")} | {
        "modifier": " ".join(request.values.getlist("modifier")), "dx": " ".join(request.values.getlist("dx"))},
        result=None, names={}, examples=EXAMPLES, error=error.message)
