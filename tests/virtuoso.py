"""A throwaway Virtuoso (Debian's virtuoso-opensource) on free loopback ports with a temporary database."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from ports import free_port

BINARY = "virtuoso-t"
USER, PASSWORD = "dba", "dba"  # a fresh database's administrator; the server only listens on loopback
START_TIMEOUT = 90.0

INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
CheckpointInterval = 0
TransactionAfterImageLimit = 1500000000
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 10
MaxClientConnections = 10
[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 0
"""


# Not SELECT DISTINCT ?g: Virtuoso 7.2 answers that through its known-graphs procedure (a cursor re-opened
# for every graph), which took over 30 s on the test server after a few builds; GROUP BY ?g takes a plain scan.
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def graphs_on(client) -> set[str]:
    """Every graph the server holds (``client``: a kgapp SparqlClient), outside kgapp's dataset rules."""
    return {r["g"].value for r in client.query(GRAPHS, [], False)}


def require_virtuoso() -> str:
    """The server binary; skips without it on a developer machine, fails in CI (where .ci/run installs it)."""
    path = shutil.which(BINARY)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{BINARY} is missing: .ci/run must install Debian's virtuoso-opensource")
        pytest.skip(f"{BINARY} not installed (apt-get install -y virtuoso-opensource)")
    return path


class Virtuoso:
    """Start with ``with Virtuoso(folder) as v:``; ``v.url`` is the HTTP root, ``v.sql_port`` the isql port."""

    def __init__(self, folder: Path, buffers: int = 100_000):
        self.folder = Path(folder)
        self.sql_port, self.http_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.buffers = buffers
        self.process: subprocess.Popen | None = None

    @property
    def auth_url(self) -> str:
        return self.url + "/sparql-auth"

    def __enter__(self) -> Virtuoso:
        self.folder.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        ini.write_text(INI.format(d=self.folder, sql=self.sql_port, http=self.http_port,
                                  buffers=self.buffers, dirty=self.buffers * 3 // 4), encoding="utf-8")
        self.process = subprocess.Popen([require_virtuoso(), "+foreground", "+configfile", str(ini)],
                                        cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait()
        return self

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.process.returncode}: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/sparql?query=ASK%7B%7D", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"virtuoso-t did not answer within {START_TIMEOUT:g} s: {self.log()[-2000:]}")

    def log(self) -> str:
        path = self.folder / "virtuoso.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def crash_and_restart(self) -> None:
        """Kill the server (SIGKILL: nothing flushed) and start it again on the same folder and ports."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)
        self.__enter__()

    def __exit__(self, *exc) -> None:
        self.stop()

    def isql(self, script: str) -> str:
        """Run SQL through Debian's isql-vt (for the bulk loader and test set-up)."""
        out = subprocess.run(["isql-vt", str(self.sql_port), USER, PASSWORD], input=script, text=True,
                             capture_output=True, timeout=3600, check=True)
        return out.stdout


def clear_kgapp_graphs(client) -> None:
    """Drop every graph of kgapp's (the manifest included) from the server: it then holds no kgapp build."""
    from kgapp.namespaces import GRAPH
    mine = [g for g in graphs_on(client) if g.startswith(str(GRAPH))]
    if mine:
        client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in mine), timeout=120)
