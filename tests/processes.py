"""`kgapp serve` as a real process on a loopback port, for tests that need the whole command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

# A later build's extra data file: one triple more than the shipped data.
EXTRA = """@prefix ex: <http://example.org/> .
ex:a ex:note "added by a later build" .
"""


def serve(store: Path, port: int, stderr: Any = subprocess.PIPE, preexec_fn: Any = None,
          **settings: str) -> subprocess.Popen:
    # Only loopback; the child builds with the shipped data if it finds no complete build.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **{f"KGAPP_{k.upper()}": v for k, v in settings.items()}}
    env.pop("KGAPP_STORE", None)
    return subprocess.Popen([sys.executable, "-m", "kgapp", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--store", str(store)], env=env, stdout=subprocess.DEVNULL, stderr=stderr,
                            preexec_fn=preexec_fn)


def wait_ready(port: int, within: float) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"not ready within {within} s")


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server started by ``serve`` as Ctrl+C would, killing it if it does not end in 10 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    if process.stderr is not None:
        process.stderr.close()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the forkserver and the query workers it forks)."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found
