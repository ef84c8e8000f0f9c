"""Settings for a build or a served app, with their defaults, read from keyword arguments or KGAPP_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from kgapp.namespaces import DEFAULT_BASE_IRI
from kgapp.store.spec import RemoteSpec, data_home, parse_store


def default_store_path() -> Path:
    """Where the embedded store lives unless told otherwise: $KGAPP_STORE (a path), else the XDG data folder."""
    env = parse_store(os.environ["KGAPP_STORE"]) if os.environ.get("KGAPP_STORE") else None
    return env if isinstance(env, Path) else data_home() / "store"


def default_query_workers() -> int:
    """Two query worker processes per core: more only share the same cores and each holds its own memory."""
    return 2 * (os.cpu_count() or 1)


def default_query_memory() -> int:
    """MB all query workers together may use: a quarter of the machine's memory, at most 640 MB."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError, AttributeError):
        total = 4096
    return max(64, min(total // 4, 640))


def default_store() -> Path | RemoteSpec:
    """The store setting's default: $KGAPP_STORE (a path or sparql:…), else the embedded store's folder."""
    env = os.environ.get("KGAPP_STORE")
    return parse_store(env) if env else default_store_path()


@dataclass(frozen=True)
class Config:
    """Everything a build or the web app needs to know; immutable so one app never sees another's."""

    # A Path for the embedded store, a RemoteSpec for a SPARQL server (kgapp.store.spec).
    store: Path | RemoteSpec = field(default_factory=default_store)
    # Instance IRIs are minted under this base; pages are served at the same path on this host.
    base_iri: str = DEFAULT_BASE_IRI
    # Extra or replacement data folders; empty means the data shipped with the package.
    data_dirs: tuple[Path, ...] = ()
    # Endpoint limits.
    query_timeout: float = 10.0
    max_query_length: int = 100_000
    max_rows: int = 100_000
    max_concurrent_queries: int = 8
    # Query worker processes (at most max_concurrent_queries; the rest of the slots wait for one), the
    # memory (MB) they may use together, split evenly (0: no limit), and the niceness added to the pool
    # that runs a client's queries beyond its first at once (0: one pool, no priority).
    query_workers: int = field(default_factory=default_query_workers)
    query_memory: int = field(default_factory=default_query_memory)
    low_priority_nice: int = 10
    # Seconds of query time a client may use in about ten seconds (kgapp.sparql.gate: a decayed sum) before
    # all its queries run in that pool and wait behind other clients' (0: only its queries beyond the first).
    low_priority_after: float = 2.0
    # Answers kept per build (kgapp.sparql.cache); queries that cannot run long answered without the
    # worker hop (kgapp.sparql.bounded). Both on by default; off for measurements and comparisons.
    result_cache: bool = True
    fast_path: bool = True
    # Fairness (kgapp.web.fairness): queries one client may run at once (only when lower than
    # max_concurrent_queries; 0: no per-client limit), a per-client token bucket (0: off), and the
    # seconds of query time a client may use in about ten seconds (a decayed sum; 0: off).
    max_queries_per_client: int = 4
    rate_limit: float = 0.0
    rate_burst: int = 20
    max_query_time_per_client: float = 0.0
    # Comma-separated proxy addresses whose X-Forwarded-For names the client.
    trusted_proxies: str = ""
    # Web
    page_size: int = 50
    # Rendered entity pages kept per build (kgapp.web.page_cache, 64 MB); off for measurements. With it,
    # `kgapp serve` renders every page of a local build ahead, at idle priority (kgapp.web.prerender).
    page_cache: bool = True
    prerender_pages: bool = True
    # The app's public root URL (https://kg.example.org), written into every absolute URL it serves.
    public_url: str = ""
    # Without public_url: Host names (comma-separated) trusted beside loopback for absolute URLs.
    allowed_hosts: str = ""
    # /metrics in Prometheus text format.
    metrics: bool = True
    # `kgapp serve`'s HTTP server: granian (default, faster) or waitress (kgapp.web.server).
    server: str = "granian"
    # Remote builds into a Virtuoso on this host (kgapp.store.remote.bulk): a folder its DirsAllowed lists
    # and its SQL port or isql command; empty: the portable SPARQL Update upload. Read from the environment.
    remote_bulk_dir: str = ""
    remote_isql: str = ""
    testing: bool = False

    @classmethod
    def from_mapping(cls, values: dict | None = None) -> Config:
        """A Config from a dict (e.g. Flask test config) merged over KGAPP_* environment variables."""
        merged: dict = {}
        names = {f.name: f for f in fields(cls)}
        for name in names:
            env = os.environ.get(f"KGAPP_{name.upper()}")
            if env is not None and name not in ("data_dirs",):
                merged[name] = env
        for key, value in (values or {}).items():
            key = key.lower()
            if key in names:
                merged[key] = value
        return cls()._coerced(merged)

    def _coerced(self, values: dict) -> Config:
        out = {}
        for f in fields(self):
            if f.name not in values:
                continue
            v = values[f.name]
            current = getattr(self, f.name)
            if f.name == "store":
                v = parse_store(v)
            elif f.name == "data_dirs":
                v = tuple(Path(p) for p in v)
            elif f.name == "server" and str(v).lower() not in ("granian", "waitress"):
                raise ValueError(f"server must be granian or waitress, not {v!r}")
            elif f.name == "server":
                v = str(v).lower()
            elif isinstance(current, bool):
                v = v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on")
            elif isinstance(current, int):
                v = int(v)
            elif isinstance(current, float):
                v = float(v)
            out[f.name] = v
        return replace(self, **out)
