"""The one error family: every refusal or failure carries the HTTP status it maps to and one plain message."""

from __future__ import annotations

from collections.abc import Mapping


class KgappError(Exception):
    """A refusal or failure a user should read as one line (the web answers ``status``, the CLI exits 1)."""

    status = 500

    def __init__(self, message: str, status: int | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})


class ProtocolError(KgappError):
    """A request or query the endpoint refuses (bad syntax, an update, SERVICE, an unservable format…).

    Written status first, as the protocol's refusals read: ``ProtocolError(406, "…")``.
    """

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message, status, headers)
