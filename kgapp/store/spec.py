"""Where the graph is stored: ``oxigraph:PATH`` (embedded, the default), a bare PATH, or ``sparql:QUERY_URL[,UPDATE_URL]``."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

USER_ENV = "KGAPP_STORE_USER"
PASSWORD_ENV = "KGAPP_STORE_PASSWORD"


def data_home() -> Path:
    """kgapp's folder under the XDG data home."""
    return Path(os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")) / "kgapp"


class StoreSpecError(ValueError):
    """A store setting kgapp cannot use (the message never contains a password)."""


@dataclass(frozen=True)
class RemoteSpec:
    """A SPARQL 1.1 Protocol server: queries go to ``query_url``, builds send updates to ``update_url``."""

    query_url: str
    update_url: str

    def __str__(self) -> str:
        same = self.update_url == self.query_url
        return f"sparql:{self.query_url}" + ("" if same else f",{self.update_url}")

    @property
    def local_dir(self) -> Path:
        """A local folder for this server's build lock and reasoning cache (one per update URL)."""
        digest = hashlib.sha256(self.update_url.encode()).hexdigest()[:16]
        return data_home() / "remote" / digest

    def credentials(self) -> tuple[str, str] | None:
        """HTTP credentials from the environment only, so they never show in a command line or a log."""
        user = os.environ.get(USER_ENV)
        if not user:
            return None
        return user, os.environ.get(PASSWORD_ENV, "")


def _url(text: str, what: str) -> str:
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreSpecError(f"the {what} URL must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        # A password in a URL ends up in shell history, process lists and logs.
        raise StoreSpecError(f"the {what} URL must not contain credentials; set {USER_ENV} and {PASSWORD_ENV}")
    return text


def parse_store(value: str | os.PathLike[str] | RemoteSpec) -> Path | RemoteSpec:
    """The store a setting names: a Path for the embedded store, a RemoteSpec for a SPARQL server."""
    if isinstance(value, RemoteSpec):
        return value
    if isinstance(value, os.PathLike):
        return Path(value)
    text = str(value).strip()
    if text.startswith("sparql:"):
        urls = [u for u in text[len("sparql:"):].split(",")]
        if not 1 <= len(urls) <= 2 or not urls[0].strip():
            raise StoreSpecError("expected sparql:QUERY_URL or sparql:QUERY_URL,UPDATE_URL")
        query = _url(urls[0], "query")
        update = _url(urls[1], "update") if len(urls) == 2 else query
        return RemoteSpec(query, update)
    if text.startswith("oxigraph:"):
        text = text[len("oxigraph:"):]
    if not text:
        raise StoreSpecError("the store path is empty")
    return Path(text).expanduser()


def describe_store(store: Path | RemoteSpec) -> str:
    """The store as a user would write it, safe to print (no credentials are ever part of a spec)."""
    return str(store) if isinstance(store, RemoteSpec) else f"oxigraph:{store}"
