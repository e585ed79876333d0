"""Alembic environment for the registry: runs inside the Flask app so it uses the app's database URL."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

registry_db = current_app.extensions["migrate"].db
target_metadata = registry_db.metadata
migrate_options = current_app.extensions["migrate"].configure_args


def run_offline() -> None:
    """Emit SQL for the configured URL without connecting (`registry db upgrade --sql`)."""
    url = registry_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, **migrate_options)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Apply the migrations on a live connection, one transaction per run."""

    def skip_empty(ctx, revision, directives):
        # `registry db migrate` with no model change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("no model changes detected")

    options = dict(migrate_options)
    options.setdefault("process_revision_directives", skip_empty)
    with registry_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
