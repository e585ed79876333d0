"""`registry completions import FILE --hub CODE [--dry-run]`: the bulk import from the command line."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import g
from flask.cli import with_appcontext


@click.group("completions", help="Course completions.")
def completions_group() -> None:
    pass


@completions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--hub", "hub_code", required=True, help="code of the training hub whose completions these are")
@click.option("--dry-run", is_flag=True, help="check every row and report; write nothing")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="default: from the file name (.json is JSON, anything else CSV)")
@with_appcontext
def import_command(file: Path, hub_code: str, dry_run: bool, fmt: str | None) -> None:
    """Import a CSV or JSON file of completions: all or nothing, idempotent on the hub's references."""
    from curricula.importer import import_completions
    from curricula.services import get_hub
    from registry.core.db import db
    from registry.core.errors import RegistryError

    g.cli_actor = "cli:completions"
    fmt = fmt or ("json" if file.suffix.lower() == ".json" else "csv")
    try:
        hub = get_hub(hub_code)
    except RegistryError as exc:
        raise click.ClickException(exc.detail) from exc
    try:
        with file.open("rb") as fh, click.progressbar(length=file.stat().st_size, label=f"Reading {file.name}",
                                                      file=sys.stderr) as bar:
            report = import_completions(hub, fh, fmt, dry_run=dry_run, actor=None, today=date.today(),
                                        progress=bar.update)
    except RegistryError as exc:
        db.session.rollback()
        for error in exc.extra.get("row_errors", []):
            click.echo(f"row {error['row']}, {error['field']}: {error['message']}", err=True)
        if exc.errors and "row_errors" not in exc.extra:
            for field, messages in exc.errors.items():
                for message in messages:
                    click.echo(f"{field}: {message}", err=True)
        raise click.ClickException(exc.detail) from exc
    if not dry_run:
        db.session.commit()
    for error in report.errors:
        click.echo(f"row {error.row}, {error.field}: {error.message}", err=True)
    if report.errors_truncated:
        click.echo(f"... and {report.error_count - len(report.errors)} more errors", err=True)
    click.echo(f"{hub.code}: {report.rows} rows; {report.summary}")
    if report.error_count:
        sys.exit(1)
