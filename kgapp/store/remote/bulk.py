"""Opt-in bulk path into a Virtuoso on the same host: the build's N-Triples files, loaded by its bulk loader through isql.

Set ``KGAPP_REMOTE_BULK_DIR`` to a folder the server's ``DirsAllowed`` lists (it reads the files by
that path, so the folder must be the same on both sides) and ``KGAPP_REMOTE_ISQL`` to the server's
SQL port (``1111``, ``host:1111``) or a full isql command (``isql-vt 1111``). The user and password
are ``KGAPP_STORE_USER`` / ``KGAPP_STORE_PASSWORD``. The build is written as N-Triples files straight
from its sources (kgapp.store.remote.bulk_files: no in-memory store), each listed for the loaders as
soon as it is written and loaded into the staging graph the SPARQL Update path would fill
(``DB.DBA.ld_add`` + ``rdf_loader_run`` + ``checkpoint``), the counts read back from the files while
the loaders run. The script goes to isql on stdin (no
shell), every SQL string is quoted, and the files are removed whatever happens.

The swap on this path is one SQL transaction (``swap``): each served graph's quads deleted and its
staging graph's copied in, with no transaction log (the loader keeps none either) and a checkpoint
after the commit; a failure rolls all of it back. Virtuoso's read committed shows a reader each row's
last committed state, so a query running while the commit lands can still see a mix: kgapp's readers
are kept from that by kgapp.store.remote.swap_guard.
"""

from __future__ import annotations

import glob
import os
import queue
import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rdflib import Graph

from kgapp.sources import SourceFile
from kgapp.store.remote import bulk_files
from kgapp.store.remote.client import RemoteQueryError, RemoteStoreError
from kgapp.store.remote.graphs import UNION_GRAPH
from kgapp.store.spec import PASSWORD_ENV, USER_ENV

DIR_ENV = "KGAPP_REMOTE_BULK_DIR"
ISQL_ENV = "KGAPP_REMOTE_ISQL"
ISQL = "isql-vt"  # Debian's name; elsewhere it is `isql` (set KGAPP_REMOTE_ISQL to the command)
LOAD_TIMEOUT = 3600.0  # seconds for the whole isql run (load and checkpoint)
# Loaders run at once, each in its own isql session, taking files from the load list in turn (Virtuoso's
# documentation suggests about one per 2.5 cores; on two cores, two finished 20-25 % sooner than one).
LOADERS = 2
BATCH = 0.05  # seconds a file waits for others to be listed with it
ERROR_MARK = "kgapp-load-error: "
DEADLOCKED = "kgapp-deadlocked: "
_SQL_PORT = re.compile(r"^(?:[A-Za-z0-9.\-]+:)?[0-9]+$")


def sql_string(text: str) -> str:
    """``text`` as an SQL string literal; refuses what isql would read as something else."""
    if any(c in text for c in "\0\n\r$;"):
        raise RemoteStoreError(f"kgapp will not pass {text!r} to isql (newline, $ or ; in a path or IRI)")
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class Listed:
    """A file listed for the loaders: the graph it goes into, and what it is: a named graph's (the only file of
    its graph), a union's without blank nodes, or the union's of the graphs with blank nodes."""

    path: Path
    target: str
    kind: Literal["graph", "union", "blank"]


@dataclass(frozen=True)
class BulkLoader:
    """Where the files go and the isql command (without credentials) that reaches the server's SQL port."""

    folder: Path
    command: tuple[str, ...]

    @classmethod
    def from_settings(cls, folder: str | os.PathLike[str] | None, isql: str | None) -> BulkLoader | None:
        """The loader the two settings describe, or None (the portable SPARQL Update path) when the folder is unset."""
        if not folder:
            return None
        if not isql:
            raise RemoteStoreError(f"{DIR_ENV} is set but {ISQL_ENV} is not: kgapp needs Virtuoso's SQL port")
        command = (ISQL, isql.strip()) if _SQL_PORT.match(isql.strip()) else tuple(shlex.split(isql))
        return cls(Path(folder).resolve(), command)

    @classmethod
    def from_env(cls) -> BulkLoader | None:
        return cls.from_settings(os.environ.get(DIR_ENV), os.environ.get(ISQL_ENV))

    def load(self, files: Iterable[SourceFile], graphs: Iterable[tuple[str, Graph]], base_iri: str,
             targets: dict[str, str]) -> tuple[dict[str, int], int, dict[str, Any]]:
        """Write the build's files (kgapp.store.remote.bulk_files) and bulk-load the union's and those of the graphs
        ``targets`` names (graph → the graph it is loaded into; UNION_GRAPH: the union's); returns the triples of
        each named graph and of the union, and the union's statistics, counted from the files while the loaders run."""
        if not self.folder.is_dir():
            raise RemoteStoreError(f"{DIR_ENV} names {self.folder}, which is not a folder")
        prefix = self.folder / f"kgapp-{uuid.uuid4().hex[:12]}-"
        ready: queue.Queue[Listed | None] = queue.Queue()

        def tell(path: Path, graph: str | None, blank: bool) -> None:  # a file is whole: list it for the loaders
            target = targets[UNION_GRAPH] if graph is None else targets.get(graph)
            if target is not None:
                ready.put(Listed(path, target, "graph" if graph is not None else "blank" if blank else "union"))

        def write() -> bulk_files.GraphFiles:
            try:
                return bulk_files.write(prefix, files, graphs, base_iri, tell)
            finally:
                ready.put(None)
        try:
            with ThreadPoolExecutor(2) as pool:
                writing = pool.submit(write)
                counted = pool.submit(lambda: bulk_files.count(writing.result()))
                self._run(ready)
                return counted.result()
        finally:
            for path in self.folder.glob(glob.escape(prefix.name) + "*"):
                path.unlink(missing_ok=True)

    def swap(self, moves: dict[str, str], drop: list[str]) -> None:
        """In one transaction, each graph of ``moves`` (graph → its staging graph) gets its staging graph's quads
        instead of its own and the graphs in ``drop`` are emptied; the staging graphs are left for ``remove``.
        INSERT SOFT: on a server that had held one value in several lexical forms ("0.80" and "0.8" as decimals),
        a plain INSERT of them failed on RDF_QUAD_POGS's uniqueness, though the graph was emptied just before
        (a test: tests/rebuilds.py, whose counts and statistics then match an embedded build's)."""
        name = f"DB.DBA.KGAPP_SWAP_{uuid.uuid4().hex[:12]}"
        body = "".join(f"  {_delete(g)}\n  INSERT SOFT DB.DBA.RDF_QUAD (G, S, P, O) SELECT iri_to_id({sql_string(g)}), "
                       f"S, P, O FROM DB.DBA.RDF_QUAD WHERE G = iri_to_id({sql_string(s)}, 0);\n" for g, s in moves.items())
        body += "".join(f"  {_delete(g)}\n" for g in drop)
        self._isql(f"CREATE PROCEDURE {name} () {{\n  declare exit handler for sqlstate '*' {{ rollback work; resignal; }};\n"
                   f"  log_enable(0, 1);\n{body}  commit work;\n}};\n{name}();\nDROP PROCEDURE {name};\ncheckpoint;\n",
                   "the swap")

    def remove(self, graphs: list[str]) -> None:
        """Empty ``graphs`` (staging graphs no reader sees) without a transaction log, each row committed as it goes
        (no locks held for the whole delete: 30-45 % faster on 1.75M quads), then checkpoint."""
        self._isql("log_enable(2, 1);\n" + "".join(f"{_delete(g)}\n" for g in graphs) + "checkpoint;\n",
                   "removing the staging graphs")

    def _run(self, ready: queue.Queue[Listed | None]) -> None:
        """List each file as it comes from ``ready`` (None: no more) and keep LOADERS loaders on the list meanwhile
        (each takes the next file left; one that found the list empty before the next file came is started again),
        a last pass (and files whose load deadlocked, loaded again), then checkpoint and check that every file
        loaded; the files' entries are removed from the load list whatever happens."""
        listed: dict[str, Listed] = {}
        try:
            with ThreadPoolExecutor(LOADERS) as pool:
                loaders: list[Future[str]] = []
                more = True
                while more:
                    batch = [ready.get()]
                    time.sleep(BATCH)  # files come every few ms: one isql run lists the ones written meanwhile
                    while not ready.empty():
                        batch.append(ready.get())
                    more = None not in batch
                    added = [item for item in batch if item is not None]
                    if added:
                        self._isql("".join(f"DB.DBA.ld_add({sql_string(str(f.path))}, {sql_string(f.target)});\n"
                                           for f in added), "listing the files for Virtuoso's bulk loader")
                        listed.update((str(f.path), f) for f in added)
                    for loader in [f for f in loaders if f.done()]:
                        loaders.remove(loader)
                        loader.result()
                    loaders += [pool.submit(self._isql, "rdf_loader_run();\n", "Virtuoso's bulk loader")
                                for _ in range(LOADERS - len(loaders) if added else 0)]
                for loader in loaders:
                    loader.result()
            if listed:  # one more pass: a loader may have found the list empty just as the last files came
                out = self._isql(f"rdf_loader_run();\nSELECT concat('{DEADLOCKED[:4]}', '{DEADLOCKED[4:]}', ll_file) "
                                 f"FROM DB.DBA.load_list WHERE ll_file IN ({_quoted(listed)}) AND ll_error LIKE '40001%';\n",
                                 "Virtuoso's bulk loader")
                self._load_again([listed[line.split(DEADLOCKED, 1)[1].strip()] for line in out.splitlines()
                                  if DEADLOCKED in line])
        finally:
            if listed:
                names = _quoted(listed)
                self._isql("checkpoint;\n"
                           f"SELECT concat('kgapp-load', '-error: ', ll_file, ' ', ll_error) FROM DB.DBA.load_list "
                           f"WHERE ll_file IN ({names}) AND (ll_error IS NOT NULL OR ll_state <> 2);\n"
                           f"DELETE FROM DB.DBA.load_list WHERE ll_file IN ({names});\n", "Virtuoso's bulk loader")

    def _load_again(self, deadlocked: list[Listed]) -> None:
        """Files whose load two loaders deadlocked (Virtuoso's ld_file records a deadlock as the file's error and
        does not retry it; the rows it loaded stay): a named graph's file, its graph's only one, into its graph
        emptied; a union's file without blank nodes as it is (its triples merge). The union's file of blank nodes
        stays failed: loaded twice, it would hold each of its blank nodes twice."""
        again = [f for f in deadlocked if f.kind != "blank"]
        if again:
            self._isql("log_enable(2, 1);\n" + "".join(f"{_delete(f.target)}\n" for f in again if f.kind == "graph")
                       + f"UPDATE DB.DBA.load_list SET ll_state = 0, ll_error = NULL WHERE ll_file IN "
                       f"({_quoted(str(f.path) for f in again)});\nrdf_loader_run();\n", "Virtuoso's bulk loader")

    def _isql(self, script: str, what: str) -> str:
        """Run ``script`` through isql and return what it printed; RemoteQueryError (its first errors, the password
        masked) if any statement failed."""
        user, password = os.environ.get(USER_ENV) or "dba", os.environ.get(PASSWORD_ENV, "")
        try:
            done = subprocess.run([*self.command, user, password], input=script, text=True, capture_output=True,
                                  timeout=LOAD_TIMEOUT, check=False)
        except FileNotFoundError:
            raise RemoteStoreError(f"cannot run {self.command[0]!r} ({ISQL_ENV}); install Virtuoso's isql") from None
        except subprocess.TimeoutExpired:
            raise RemoteStoreError(f"{what} did not finish within {LOAD_TIMEOUT:g} s") from None
        out = done.stdout + done.stderr
        errors = [line.strip() for line in out.splitlines() if ERROR_MARK in line or "*** Error" in line]
        if done.returncode != 0 or errors:
            detail = "; ".join(errors[:3]) or out.strip()[-500:]
            detail = detail.replace(password, "…") if password else detail
            raise RemoteQueryError(f"{what} failed (isql exit {done.returncode}): {detail}")
        return out


def _quoted(paths: Iterable[str]) -> str:
    return ", ".join(sql_string(path) for path in paths)


def _delete(graph: str) -> str:
    # no index hint (TABLE OPTION): in a trial on 7.2, hinted deletes emptied more than the graph they named
    return f"DELETE FROM DB.DBA.RDF_QUAD WHERE G = iri_to_id({sql_string(graph)}, 0);"
