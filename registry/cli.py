"""The `registry` command: Flask's CLI (run, db ...) plus the registry's own commands."""

from __future__ import annotations

import sys

import click
from flask import Flask, g
from flask.cli import FlaskGroup, with_appcontext


def _create_app() -> Flask:
    from registry.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, help="Workforce Registry management commands.")
def main() -> None:
    """Entry point of the `registry` console script."""


def register_commands(app: Flask) -> None:
    app.cli.add_command(audit_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(accounts_group)
    app.cli.add_command(check_system_command)
    from curricula.cli import completions_group

    app.cli.add_command(completions_group)
    from registry.recognition.cli import recognitions_group

    app.cli.add_command(recognitions_group)
    from certificates.cli import certificates_group, keys_group, verify_command

    app.cli.add_command(keys_group)
    app.cli.add_command(certificates_group)
    app.cli.add_command(verify_command)


@click.group("audit", help="The hash-chained audit log.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check every audit event's hash and link; name each edited, deleted or reordered event."""
    from registry.core.audit import verify_chain

    checked, problems = verify_chain()
    if problems:
        for problem in problems:
            click.echo(f"BROKEN {problem}", err=True)
        click.echo(f"{checked} events checked, {len(problems)} problems", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {checked} events")


@click.command("demo", help="Load the demo data (idempotent: does nothing if it is already there).")
@with_appcontext
def demo_command() -> None:
    from registry.demo import load_demo

    g.cli_actor = "cli:demo"
    created = load_demo()
    click.echo("demo data loaded" if created else "demo data already present; nothing changed")


@click.group("accounts", help="Accounts.")
def accounts_group() -> None:
    pass


@accounts_group.command("create-admin")
@click.option("--email", required=True)
@click.option("--organisation", required=True, help="code of the secretariat organisation")
@click.password_option()
@with_appcontext
def create_admin(email: str, organisation: str, password: str) -> None:
    """Create a secretariat admin account (first start of a production install)."""
    from registry.accounts.services import create_account
    from registry.core.auth import Role
    from registry.core.db import db
    from registry.core.errors import RegistryError
    from registry.people.services import get_organisation

    g.cli_actor = "cli:accounts"
    try:
        create_account(email=email, display_name=email, role=Role.SECRETARIAT_ADMIN, password=password,
                       organisation=get_organisation(organisation))
    except RegistryError as exc:
        raise click.ClickException(exc.detail) from exc
    db.session.commit()
    click.echo(f"created secretariat admin {email}")


@click.command("check-system", help="Check the system libraries WeasyPrint needs.")
def check_system_command() -> None:
    from registry.syscheck import check_weasyprint

    message = check_weasyprint()
    if message:
        raise click.ClickException(message)
    click.echo("system libraries: ok")
