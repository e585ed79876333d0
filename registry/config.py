"""Configuration: safe development defaults, overridden by REGISTRY_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Demo values: fine on a laptop, refused in production (see check_production).
DEMO_SECRET_KEY = "demo-secret-key-not-for-production-0000000000"  # noqa: S105 - a public placeholder by design
DEMO_KEY_ENCRYPTION_KEY = "demo-key-encryption-key-not-for-production"  # noqa: S105

ENV_KEYS = {
    "REGISTRY_ENV": ("ENV_NAME", str),
    "REGISTRY_DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "REGISTRY_SECRET_KEY": ("SECRET_KEY", str),
    "REGISTRY_KEY_ENCRYPTION_KEY": ("KEY_ENCRYPTION_KEY", str),
    "REGISTRY_BASE_URL": ("BASE_URL", str),
    "REGISTRY_ACCESS_TOKEN_SECONDS": ("ACCESS_TOKEN_SECONDS", int),
    "REGISTRY_MAX_BODY_BYTES": ("MAX_CONTENT_LENGTH", int),
    "REGISTRY_LOG_LEVEL": ("LOG_LEVEL", str),
    "REGISTRY_CURRICULA_MAX_IMPORT_BYTES": ("CURRICULA_MAX_IMPORT_BYTES", int),
    "REGISTRY_CURRICULA_MAX_IMPORT_ROWS": ("CURRICULA_MAX_IMPORT_ROWS", int),
    "REGISTRY_VERIFY_RATE_PER_MINUTE": ("VERIFY_RATE_PER_MINUTE", float),
    "REGISTRY_VERIFY_BURST": ("VERIFY_BURST", int),
    "REGISTRY_SIGN_IN_MAX_FAILURES": ("SIGN_IN_MAX_FAILURES", int),
    "REGISTRY_SIGN_IN_MAX_FAILURES_PER_ADDRESS": ("SIGN_IN_MAX_FAILURES_PER_ADDRESS", int),
    "REGISTRY_SIGN_IN_WINDOW_SECONDS": ("SIGN_IN_WINDOW_SECONDS", int),
    "REGISTRY_TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
}


def defaults(instance_path: str) -> dict[str, Any]:
    return {
        "ENV_NAME": "development",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(Path(instance_path) / "registry.db"),
        "SECRET_KEY": DEMO_SECRET_KEY,
        "KEY_ENCRYPTION_KEY": DEMO_KEY_ENCRYPTION_KEY,
        "BASE_URL": "http://127.0.0.1:5000",
        "ACCESS_TOKEN_SECONDS": 900,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "LOG_LEVEL": "INFO",
        # Bulk import of completions (curricula.importer): its own body limit, above the 1 MiB for JSON.
        "CURRICULA_MAX_IMPORT_BYTES": 20 * 1024 * 1024,
        "CURRICULA_MAX_IMPORT_ROWS": 100_000,
        # Sign-in throttling (registry.accounts.throttle): failures per e-mail / per client address in a window.
        "SIGN_IN_MAX_FAILURES": 5,
        "SIGN_IN_MAX_FAILURES_PER_ADDRESS": 30,
        "SIGN_IN_WINDOW_SECONDS": 900,
        # Reverse proxies in front of the service that append to X-Forwarded-For (0: the service is reached
        # directly, and the header is ignored, since any client can send it).
        "TRUSTED_PROXIES": 0,
        # Recycle connections instead of pinging on every checkout (a round trip per request).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        "JSON_SORT_KEYS": False,
        "API_TITLE": "Workforce Registry",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }


def from_environment(environ: os._Environ[str] | dict[str, str] = os.environ) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for env_key, (config_key, kind) in ENV_KEYS.items():
        if env_key in environ and environ[env_key] != "":
            try:
                config[config_key] = kind(environ[env_key])
            except ValueError as exc:
                raise SystemExit(f"{env_key} must be a {kind.__name__}: {environ[env_key]!r}") from exc
    return config


class InsecureConfiguration(SystemExit):
    """Raised at start-up when production would run on demo secrets."""


def check_proxies(config: dict[str, Any]) -> int:
    """The number of trusted reverse proxies, refused at start-up unless it is 0 to 5."""
    count = config.get("TRUSTED_PROXIES", 0)
    if type(count) is not int or not 0 <= count <= 5:
        raise SystemExit(f"REGISTRY_TRUSTED_PROXIES must be a whole number from 0 to 5, not {count!r}")
    return count


def check_production(config: dict[str, Any]) -> None:
    """In production mode, refuse demo secrets, short secrets and the embedded SQLite database."""
    if config.get("ENV_NAME") != "production":
        return
    problems = []
    if config["SECRET_KEY"] == DEMO_SECRET_KEY or len(config["SECRET_KEY"]) < 32:
        problems.append("REGISTRY_SECRET_KEY is the demo value or shorter than 32 characters")
    if config["KEY_ENCRYPTION_KEY"] == DEMO_KEY_ENCRYPTION_KEY or len(config["KEY_ENCRYPTION_KEY"]) < 32:
        problems.append("REGISTRY_KEY_ENCRYPTION_KEY is the demo value or shorter than 32 characters")
    if not config["BASE_URL"].startswith("https://"):
        problems.append("REGISTRY_BASE_URL must be an https:// address")
    if problems:
        raise InsecureConfiguration(
            "refusing to start in production mode: " + "; ".join(problems) + ". See README, 'Configuration'."
        )
