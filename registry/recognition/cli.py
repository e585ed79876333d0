"""`registry recognitions ...`: jobs a scheduler runs."""

from __future__ import annotations

from datetime import date

import click
from flask import g
from flask.cli import with_appcontext

from registry.core.db import db


@click.group("recognitions", help="Recognition applications.")
def recognitions_group() -> None:
    pass


@recognitions_group.command("settle")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="evaluate as on this date (default: today)")
@with_appcontext
def settle_command(today) -> None:
    """Record tacit grants for applications past their deadline where the agreement says silence is approval."""
    from registry.recognition.services import settle

    g.cli_actor = "cli:recognitions-settle"
    day = today.date() if today else date.today()
    granted, skipped = settle(day)
    db.session.commit()
    for recognition in granted:
        click.echo(f"granted tacitly: recognition {recognition.id} ({recognition.host_state_code}, "
                   f"due {recognition.decision_due_on.isoformat()})")
    for recognition, reason in skipped:
        click.echo(f"not granted: recognition {recognition.id}: {reason}")
    click.echo(f"{len(granted)} granted, {len(skipped)} left pending")
