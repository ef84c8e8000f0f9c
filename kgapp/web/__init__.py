"""The web surface (the only package that knows Flask): SPARQL endpoint, Linked Data pages, exports, health."""

from kgapp.web.app import close_app, create_app

__all__ = ["close_app", "create_app"]
