"""Blueprint placeholder for the sparql surface (filled in by its own issue)."""

from flask import Blueprint

bp = Blueprint("sparql", __name__)
