"""Fixtures by cost: the store is built once per session; apps and clients are made per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from a11y import a11y_page  # noqa: F401  (a fixture: axe-core checks in a CSP-free context)
from paths import ARTIFACTS, SHARED  # noqa: E402, F401
from ports import free_port
from processes import serve, stop_server, wait_ready

from kgapp.build import build
from kgapp.config import Config
from kgapp.store import open_store
from kgapp.web import close_app, create_app


@pytest.fixture(scope="session")
def store_path(tmp_path_factory) -> Path:
    """A store built from the shipped data, once for the whole session."""
    path = tmp_path_factory.mktemp("store")
    build(Config(store=path))
    return path


@pytest.fixture()
def store_copy(tmp_path, store_path) -> Path:
    """A private copy of the session store: builds, links and leases there touch nobody else's."""
    root = tmp_path / "store"
    shutil.copytree(store_path, root, symlinks=True)
    return root


@pytest.fixture(scope="session")
def store(store_path):
    return open_store(store_path)


@pytest.fixture()
def app(store_path):
    app = create_app({"store": store_path, "testing": True})
    yield app
    close_app(app)  # its query worker processes end with the test


@pytest.fixture(scope="session", autouse=True)
def no_leaked_workers():
    """At the end of the session no query worker process may be left running."""
    import gc
    import multiprocessing

    yield
    gc.collect()  # apps that went out of scope close their workers when collected
    leaked = [p for p in multiprocessing.active_children() if p.name == "kgapp-query-worker"]
    assert leaked == [], f"query worker processes left running: {leaked}"


@pytest.fixture()
def make_app(store_path):
    """Apps with their own settings; their workers are stopped after the test."""
    apps = []

    def make(**limits):
        app = create_app({"store": store_path, "testing": True, **limits})
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture()
def client(app):
    return app.test_client()


class LiveServer:
    """`kgapp serve` as users run it (granian, its default server) on a loopback port over ``store``."""

    def __init__(self, store: Path, log: Path):
        self.store, self.log, self.port = store, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.stderr = open(self.log, "wb")  # a file, not a pipe nobody reads: the server never blocks on it
        self.process = serve(self.store, self.port, stderr=self.stderr)
        wait_ready(self.port, 120)
        return self

    def __exit__(self, *exc):
        stop_server(self.process)
        self.stderr.close()


@pytest.fixture(scope="session")
def live_server(store_path, tmp_path_factory):
    """Real HTTP on 127.0.0.1 against a copy of the session store (what it writes there, pre-rendered pages
    among it, stays its own); base URL in ``.url``."""
    folder = tmp_path_factory.mktemp("live")
    shutil.copytree(store_path, folder / "store", symlinks=True)
    with LiveServer(folder / "store", folder / "serve.log") as server:
        yield server


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (no browser download, no network)."""
    import os

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    """A fresh page; the test fails if the page broke the Content-Security-Policy (kgapp.web.security)."""
    context = browser.new_context(accept_downloads=True)
    pg = context.new_page()
    violations: list[str] = []
    pg.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    context.close()
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where browser tests put screenshots (kept by CI, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# -- a real SPARQL server (Virtuoso) for the remote-store tests ------------------------------------

@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    """A throwaway Virtuoso on loopback ports (skipped without virtuoso-t on a developer machine, fails in CI)."""
    from virtuoso import Virtuoso

    with Virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture(scope="session")
def remote_store_spec(virtuoso, tmp_path_factory) -> str:
    """The shipped data built into the session's Virtuoso; its store setting (credentials in the environment)."""

    from virtuoso import PASSWORD, USER

    with pytest.MonkeyPatch.context() as env:
        env.setenv("KGAPP_STORE_USER", USER)
        env.setenv("KGAPP_STORE_PASSWORD", PASSWORD)
        env.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg")))  # the remote build's local cache
        spec = f"sparql:{virtuoso.auth_url}"
        build(Config.from_mapping({"store": spec}))
        yield spec


@pytest.fixture(scope="session", params=["oxigraph", "virtuoso"])
def any_store_spec(request, store_path):
    """The session's store setting, once embedded and once on Virtuoso: tests using it run against both."""
    return store_path if request.param == "oxigraph" else request.getfixturevalue("remote_store_spec")
