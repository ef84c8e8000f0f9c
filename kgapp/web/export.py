"""Blueprint placeholder for the export surface (filled in by its own issue)."""

from flask import Blueprint

bp = Blueprint("export", __name__)
