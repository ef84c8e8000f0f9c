"""The `kgapp` command: build, validate, query, export and serve the graph."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

import click

from kgapp import __version__
from kgapp.config import Config
from kgapp.errors import KgappError
from kgapp.store.spec import StoreSpecError, describe_store

# Commands import their stage inside the function: `kgapp query` need not load pyshacl, owlrl or Flask.

FORMAT_HELP = "Output format"


def _config(store: str | None, data: tuple[str, ...] = ()) -> Config:
    changes: dict = {}
    if store:
        changes["store"] = store  # parsed by Config: a path, oxigraph:PATH or sparql:QUERY_URL[,UPDATE_URL]
    if data:
        changes["data_dirs"] = tuple(Path(d) for d in data)
    try:
        return Config.from_mapping(changes)
    except StoreSpecError as e:
        raise click.BadParameter(str(e), param_hint="--store") from None
    except ValueError as e:  # a KGAPP_* variable that does not parse
        raise click.ClickException(f"setting: {e}") from None


STORE_HELP = ("Store: a folder or oxigraph:PATH (embedded; default $KGAPP_STORE or ~/.local/share/kgapp/store), "
              "or sparql:QUERY_URL[,UPDATE_URL] for a SPARQL 1.1 server (credentials from $KGAPP_STORE_USER "
              "and $KGAPP_STORE_PASSWORD only).")


@contextmanager
def reported(suffix: str = ""):
    """The one error path of the CLI: any kgapp error becomes one line on stderr and exit 1."""
    try:
        yield
    except KgappError as e:
        raise click.ClickException(e.message + suffix) from None


def _progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kgapp")
def main() -> None:
    """A knowledge graph of US procedure-billing knowledge: build it, query it, serve it."""


@main.command()
@click.option("--data", "data", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Folder of data files (.ttl, .trig); repeat for several. Default: the shipped data.")
@click.option("--store", metavar="STORE", help=STORE_HELP)
def build(data: tuple[str, ...], store: str | None) -> None:
    """Load, validate, reason over and store the graph (the previous store stays until this one is complete)."""
    from kgapp.build import BuildRejected
    from kgapp.build import build as run_build
    from kgapp.sources import SourceError

    config = _config(store, data)
    click.echo(f"Building into {describe_store(config.store)}", err=True)
    try:
        result = run_build(config, progress=_progress)
    except SourceError as e:
        raise click.ClickException(f"cannot read source: {e}") from None
    except BuildRejected as e:
        click.echo(e.report.as_text(), err=True)
        raise click.ClickException(f"{e}; the previous store (if any) is unchanged") from None
    except KgappError as e:
        raise click.ClickException(f"{e.message}; the previous store (if any) is unchanged") from None
    except (RuntimeError, ValueError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from None
    for warning in result.report.warnings:
        click.echo(warning.as_text(), err=True)
    click.echo(f"Built {result.triples} triples ({result.inferred} inferred, "
               f"{len(result.report.warnings)} warning(s)) in {result.seconds:.1f} s: {result.folder}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "turtle"]), default="text", show_default=True,
              help=FORMAT_HELP)
def validate(files: tuple[str, ...], fmt: str) -> None:
    """Validate Turtle/TriG FILES against kgapp's shapes. Exit 0 conforming, 1 violations, 2 unreadable.

    The files are checked together with the shipped data, so they may point at its nerves,
    modifiers and payers; a file named like a shipped one (e.g. an edited seed-000-64868.ttl)
    replaces it. Only results about nodes the files describe are reported.
    """
    from kgapp.build import validate_files
    from kgapp.sources import SourceError

    try:
        report = validate_files([Path(f) for f in files])
    except SourceError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
    if fmt == "turtle":
        click.echo(report.graph.serialize(format="turtle"))
    else:
        click.echo(report.as_text())
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.argument("sparql", required=False)
@click.option("-f", "--file", "query_file", type=click.File("r", encoding="utf-8"), help="Read the query from a file.")
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "jsonld", "rdfxml"]),
              help=FORMAT_HELP)
@click.option("--store", metavar="STORE", help=STORE_HELP)
def query(sparql: str | None, query_file, fmt: str, store: str | None) -> None:
    """Run a SPARQL query (argument, -f FILE, or - for standard input) against the built store."""
    from kgapp.namespaces import PREFIXES
    from kgapp.sparql.render import render
    from kgapp.store import open_store

    if query_file is not None:
        text = query_file.read()
    elif sparql == "-":
        text = sys.stdin.read()
    elif sparql:
        text = sparql
    else:
        raise click.UsageError("give a query, -f FILE, or - to read standard input")
    config = _config(store)
    try:
        with reported():
            st = open_store(config.store, config.query_timeout)
            result = st.query(text, prefixes=PREFIXES)
            out = render(result, fmt)
    except SyntaxError as e:
        raise click.ClickException(f"query syntax error: {e}") from None
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    sys.stdout.buffer.write(out)


@main.command()
@click.option("--format", "fmt", default="turtle", show_default=True,
              type=click.Choice(["turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"]), help=FORMAT_HELP)
@click.option("--inferred", is_flag=True, help="Include the inferred triples.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: standard output).")
@click.option("--store", metavar="STORE", help=STORE_HELP)
def export(fmt: str, inferred: bool, output: str | None, store: str | None) -> None:
    """Export the graph (asserted triples; --inferred adds inferred ones) in an RDF format."""
    from kgapp.export import write_export
    from kgapp.store import open_store

    with reported():
        st = open_store(_config(store).store)
        if output:
            tmp = Path(output + ".partial")
            with open(tmp, "wb") as handle:
                write_export(st, fmt, handle, inferred=inferred)
            tmp.replace(output)
            click.echo(f"wrote {output}", err=True)
        else:
            write_export(st, fmt, sys.stdout.buffer, inferred=inferred)


@main.command()
@click.option("--code", help="CPT or HCPCS code of the claim line (e.g. 64868).")
@click.option("--modifier", "modifiers", multiple=True, help="A modifier (repeat for several, e.g. --modifier 50).")
@click.option("--pos", help="CMS place-of-service code (e.g. 22).")
@click.option("--payer", help="Payer id as in /id/payer/{id} (e.g. aetna).")
@click.option("--dx", multiple=True, help="ICD-10-CM diagnosis, with or without the dot (repeat for several).")
@click.option("--file", "claims_file", type=click.File("r", encoding="utf-8-sig"),
              help="CSV of claim lines (header code,modifiers,pos,payer,dx; several values space-separated).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True,
              help=FORMAT_HELP)
@click.option("--no-cache", is_flag=True, help="Run every rule afresh for every line (to measure; same answers).")
@click.option("--store", metavar="STORE", help=STORE_HELP)
def check(code, modifiers, pos, payer, dx, claims_file, fmt: str, no_cache: bool, store: str | None) -> None:
    """Check a claim line (or a CSV of them) against the graph: findings with the facts and sources behind them.

    Exit 0 when no finding is an error, 1 when one is, 2 when the input cannot be read.
    """
    from kgapp.check import ClaimError, check_claim, parse_claim
    from kgapp.check.report import render, write_batch
    from kgapp.store import open_store

    if claims_file is not None and (code or modifiers or pos or payer or dx):
        raise click.UsageError("give either --file or the fields of one line (--code …), not both")
    with reported():
        st = open_store(_config(store).store)
    try:
        if claims_file is not None:
            sys.exit(write_batch(st, claims_file, fmt, click.echo, cache=not no_cache))
        result = check_claim(st, parse_claim(code, modifiers, pos, payer, dx))
    except ClaimError as e:
        click.echo(f"Error: {e.message}", err=True)
        sys.exit(2)
    except KgappError as e:
        raise click.ClickException(e.message) from None
    click.echo(render(result, fmt))
    sys.exit(1 if result.has_errors else 0)


@main.command()
@click.option("--codes", "n_codes", type=click.IntRange(1, 2_000_000), required=True, help="How many codes.")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="New folder to write into.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same files).")
def synth(n_codes: int, out: str, seed: int) -> None:
    """Write a synthetic data folder of N codes in kgapp's model (for `kgapp build --data`)."""
    from kgapp.build.synth import synthesize

    try:
        summary = synthesize(n_codes, Path(out), seed=seed, progress=_progress)
    except FileExistsError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"wrote {summary['codes']} codes in {summary['files']} files to {out} "
               f"({summary['expected_warnings']} expected bilateral-conflict warnings)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
@click.option("--store", metavar="STORE", help=STORE_HELP)
def serve(host: str, port: int, threads: int, store: str | None) -> None:
    """Serve the SPARQL endpoint, pages and exports (builds the store first if there is none)."""
    from kgapp.store import StoreUnavailable, open_store
    from kgapp.web import server

    config = _config(store)
    where = describe_store(config.store)
    with reported():
        try:
            open_store(config.store, config.query_timeout).close()
        except StoreUnavailable:
            from kgapp.build import build as run_build

            click.echo(f"No store at {where} yet: building it first.", err=True)
            run_build(config, progress=_progress)
    click.echo(f"kgapp serving {where} on http://{host}:{port}/ with {config.server} (SPARQL at /sparql; "
               "SIGHUP: switch to the newest build now)", err=True)
    with reported():  # imported here, granian's forked worker inherits the modules it makes the app with
        wsgi = import_module("kgapp.web.wsgi")
        (server.run_granian if config.server == "granian" else wsgi.serve_waitress)(config, host, port, threads)
