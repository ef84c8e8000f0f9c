"""Health checks for orchestrators: /healthz (the process answers) and /readyz (the store is open)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from kgapp.errors import KgappError
from kgapp.web.context import get_store

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Response:
    return Response("ok\n", content_type="text/plain; charset=utf-8")


@bp.route("/readyz")
def readyz():
    """Ready when the store is open and answers; the build id and triple count say which one it is."""
    store = get_store()
    if store is None:
        return jsonify(status="unavailable", reason="no store is open"), 503
    folder = getattr(store, "folder", None)
    if folder is not None and not (folder / "manifest.json").is_file():
        return jsonify(status="unavailable", reason="the served build's folder is gone"), 503
    try:
        store.query("ASK {}")
    except KgappError as e:  # a remote store that is down or refuses
        return jsonify(status="unavailable", reason=f"the store does not answer: {e.message}"), 503
    except (OSError, RuntimeError, ValueError) as e:
        return jsonify(status="unavailable", reason=f"the store does not answer: {e}"), 503
    return jsonify(status="ready", triples=store.triple_count, build=store.manifest.get("build"))
