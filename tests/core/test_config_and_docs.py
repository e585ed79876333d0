"""Configuration safety, the OpenAPI document, and migrations that match the models."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from registry.app import create_app
from registry.config import DEMO_SECRET_KEY, InsecureConfiguration
from registry.core.db import db

STRONG = "k" * 40


def test_production_refuses_demo_defaults(tmp_path):
    with pytest.raises(InsecureConfiguration) as exc:
        create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    message = str(exc.value)
    assert "REGISTRY_SECRET_KEY" in message and "REGISTRY_KEY_ENCRYPTION_KEY" in message
    assert "REGISTRY_BASE_URL" in message


def test_production_starts_with_real_secrets(tmp_path):
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": STRONG, "KEY_ENCRYPTION_KEY": "e" * 40,
                      "BASE_URL": "https://registry.example.org",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] != DEMO_SECRET_KEY


def test_environment_variables_override(monkeypatch, tmp_path):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("REGISTRY_ACCESS_TOKEN_SECONDS", "60")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")
    assert app.config["ACCESS_TOKEN_SECONDS"] == 60
    monkeypatch.setenv("REGISTRY_ACCESS_TOKEN_SECONDS", "sixty")
    with pytest.raises(SystemExit, match="REGISTRY_ACCESS_TOKEN_SECONDS must be a int"):
        create_app()


def test_demo_refuses_production(tmp_path):
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": STRONG, "KEY_ENCRYPTION_KEY": "e" * 40,
                      "BASE_URL": "https://registry.example.org",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "refusing to load demo data" in str(result.exception) + result.output


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["title"] == "Workforce Registry"
    for path in ["/api/v1/clinicians", "/api/v1/licences/{licence_id}/events", "/api/v1/auth/token",
                 "/api/v1/clinicians/{registry_number}/standing"]:
        assert path in spec["paths"], path
    # Output and input shapes come from the same schemas the views use.
    assert "LicenceEventIn" in spec["components"]["schemas"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/v1/licences/{licence_id}/events" in html
    assert "<script src=" not in html  # no assets from elsewhere


def test_migrations_match_models_and_downgrade(app):
    with app.app_context():
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert "licence_events" in sa.inspect(db.engine).get_table_names()
        assert db.session.execute(sa.text("SELECT count(*) FROM professions")).scalar() >= 8
        db.session.remove()
