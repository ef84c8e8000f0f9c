"""The store setting: embedded paths, oxigraph:PATH, sparql:QUERY_URL[,UPDATE_URL], credentials from the environment only."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kgapp.cli import main
from kgapp.config import Config
from kgapp.store.spec import RemoteSpec, StoreSpecError, describe_store, parse_store

Q, U = "http://127.0.0.1:8890/sparql", "http://127.0.0.1:8890/sparql-auth"


@pytest.mark.parametrize("value, expected", [
    ("/var/lib/kgapp", Path("/var/lib/kgapp")),
    ("oxigraph:/var/lib/kgapp", Path("/var/lib/kgapp")),
    (Path("relative/store"), Path("relative/store")),
    (f"sparql:{Q}", RemoteSpec(Q, Q)),
    (f"sparql:{Q},{U}", RemoteSpec(Q, U)),
    (f"sparql: {Q} , {U} ", RemoteSpec(Q, U)),
])
def test_parse(value, expected):
    assert parse_store(value) == expected


@pytest.mark.parametrize("value", [
    "sparql:", "sparql:ftp://host/sparql", "sparql:/sparql", f"sparql:{Q},{U},{U}", "oxigraph:",
    "sparql:http://dba:secret@127.0.0.1:8890/sparql",
])
def test_refused(value):
    with pytest.raises(StoreSpecError) as e:
        parse_store(value)
    assert "secret" not in str(e.value)


def test_config_keeps_paths_and_reads_specs(monkeypatch, tmp_path):
    assert Config(store=tmp_path).store == tmp_path
    assert Config.from_mapping({"store": str(tmp_path)}).store == tmp_path
    assert Config.from_mapping({"store": f"sparql:{Q}"}).store == RemoteSpec(Q, Q)
    monkeypatch.setenv("KGAPP_STORE", f"sparql:{Q},{U}")
    assert Config().store == RemoteSpec(Q, U)
    assert Config.from_mapping().store == RemoteSpec(Q, U)


def test_credentials_come_from_the_environment_only(monkeypatch):
    spec = parse_store(f"sparql:{Q}")
    monkeypatch.delenv("KGAPP_STORE_USER", raising=False)
    assert spec.credentials() is None
    monkeypatch.setenv("KGAPP_STORE_USER", "kgapp")
    monkeypatch.setenv("KGAPP_STORE_PASSWORD", "s3cret-pw")
    assert spec.credentials() == ("kgapp", "s3cret-pw")
    assert "s3cret-pw" not in str(spec) + repr(spec) + describe_store(spec)


def test_cli_never_prints_the_password(monkeypatch):
    """A server that is not there: the error names the URL, never the password."""
    from ports import free_port

    monkeypatch.setenv("KGAPP_STORE_USER", "kgapp")
    monkeypatch.setenv("KGAPP_STORE_PASSWORD", "s3cret-pw")
    url = f"http://127.0.0.1:{free_port()}/sparql"
    for args in (["query", "--store", f"sparql:{url}", "ASK {}"], ["export", "--store", f"sparql:{url}"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert url in result.output and "cannot reach" in result.output
        assert "s3cret-pw" not in result.output


def test_cli_refuses_credentials_in_the_url():
    result = CliRunner().invoke(main, ["query", "--store", "sparql:http://u:pw@127.0.0.1:1/sparql", "ASK {}"])
    assert result.exit_code == 2
    assert "KGAPP_STORE_PASSWORD" in result.output and "pw@" not in result.output
