"""Blueprint placeholder for the pages surface (filled in by its own issue)."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
