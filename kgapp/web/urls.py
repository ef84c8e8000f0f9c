"""The app's absolute root URL, for every absolute URL it writes: the public_url setting, else a trusted Host."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from flask import current_app, request
from werkzeug.wrappers import Request

from kgapp.config import Config
from kgapp.web.context import get_config

LOOPBACK_NAMES = ("localhost",)


def split_list(value: str) -> list[str]:
    """A comma-separated setting as a list of its non-empty, trimmed, lower-cased items."""
    return [item.strip().lower() for item in value.split(",") if item.strip()]


@lru_cache(maxsize=256)
def is_loopback(host: str) -> bool:
    """``host`` (a name or an address, without port) names this machine's loopback interface."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def trusted_host(host: str | None = None, allowed_hosts: str | None = None) -> str | None:
    """The request's Host header (``host``, host[:port] as the client sent it) when it may be written into
    absolute URLs: loopback or allow-listed."""
    host = request.host if host is None else host
    allowed = get_config().allowed_hosts if allowed_hosts is None else allowed_hosts
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if is_loopback(name) or name.strip("[]").lower() in split_list(allowed):
        return host
    return None


def root_url() -> str:
    """The absolute URL of the app's root, without a trailing slash.

    The ``public_url`` setting when set; else the Host header if it is loopback or in ``allowed_hosts``;
    else the address the server is bound to (never a name a client made up: ``Host: evil.example``
    must not end up in the service description or VoID that caches and crawlers keep).
    """
    return root_url_for(request, get_config(), current_app.config.get("KGAPP_BOUND"))


def root_url_for(request: Request, config: Config, bound: str | None) -> str:
    """``root_url`` for any werkzeug request (the lean /sparql path has no Flask request); ``bound`` is the
    address `kgapp serve` listens on."""
    public = config.public_url.strip()
    if public:
        return public.rstrip("/")
    host = trusted_host(request.host, config.allowed_hosts) or bound
    if host is None:
        environ = request.environ
        name, port = environ.get("SERVER_NAME", "localhost"), str(environ.get("SERVER_PORT", ""))
        name = "localhost" if name.endswith(".invalid") else name  # waitress's name for "unknown"
        default = {"http": "80", "https": "443"}.get(request.scheme)
        host = name if not port or port == default else f"{name}:{port}"
    return f"{request.scheme}://{host}{request.script_root}"


def endpoint_url() -> str:
    """The SPARQL endpoint's absolute URL: the base relative IRIs in queries resolve against."""
    return root_url() + "/sparql"
