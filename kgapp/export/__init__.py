"""Whole-graph exports in every RDF format: written once per build, streamed to the web, the same bytes for the CLI."""

from kgapp.export.prefixes import export_prefixes
from kgapp.export.stream import stream, stream_export
from kgapp.export.writer import export_filename, write_export

__all__ = ["export_filename", "export_prefixes", "stream", "stream_export", "write_export"]
