"""Commands: `registry keys rotate|compromise|list`, `registry certificates resign`, `registry verify` (offline)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import g
from flask.cli import with_appcontext

from certificates.jose import b64url_decode


@click.group("keys", help="Issuer signing keys.")
def keys_group() -> None:
    pass


@keys_group.command("rotate")
@click.argument("issuer")
@click.option("--alg", type=click.Choice(["ES256", "EdDSA"]), default="ES256", show_default=True)
@with_appcontext
def keys_rotate(issuer: str, alg: str) -> None:
    """A new key signs for ISSUER (an organisation code) from now on; the old one still verifies."""
    from certificates import services
    from registry.core.db import db
    from registry.core.errors import RegistryError
    from registry.people.services import get_organisation

    g.cli_actor = "cli:keys"
    try:
        key = services.rotate_key(get_organisation(issuer), alg=alg)
    except RegistryError as exc:
        raise click.ClickException(exc.detail) from exc
    db.session.commit()
    click.echo(f"{issuer}: new {alg} key {key.kid}")


@keys_group.command("compromise")
@click.argument("kid")
@click.option("--reason", required=True)
@with_appcontext
def keys_compromise(kid: str, reason: str) -> None:
    """Mark KID compromised: everything it signed fails until `registry certificates resign`."""
    from certificates import services
    from registry.core.db import db
    from registry.core.errors import RegistryError

    g.cli_actor = "cli:keys"
    try:
        key = services.compromise_key(services.get_key(kid), reason=reason)
    except RegistryError as exc:
        raise click.ClickException(exc.detail) from exc
    db.session.commit()
    click.echo(f"key {key.kid} of {key.organisation.code} marked compromised; run `registry certificates resign`")


@keys_group.command("list")
@click.argument("issuer", required=False)
@with_appcontext
def keys_list(issuer: str | None) -> None:
    """Every key (or ISSUER's) with its window; private keys are never shown."""
    import sqlalchemy as sa

    from certificates.models import IssuerKey
    from registry.core.db import db
    from registry.people.services import get_organisation

    stmt = sa.select(IssuerKey).order_by(IssuerKey.organisation_id, IssuerKey.id)
    if issuer:
        stmt = stmt.where(IssuerKey.organisation_id == get_organisation(issuer).id)
    for key in db.session.scalars(stmt):
        state = "compromised" if key.compromised_at else ("current" if key.not_after is None else "retired")
        until = key.not_after.isoformat() if key.not_after else "-"
        click.echo(f"{key.organisation.code:12} {key.kid} {key.alg.value:6} {key.not_before.isoformat()} {until} "
                   f"{state}")


@click.group("certificates", help="Issued certificates.")
def certificates_group() -> None:
    pass


@certificates_group.command("resign")
@click.option("--all", "everything", is_flag=True, help="re-sign every certificate, not only compromised ones")
@with_appcontext
def certificates_resign(everything: bool) -> None:
    """Re-sign, from the database, the certificates signed by a compromised key (their PDFs are rendered again
    from the stored snapshot), and the status lists."""
    from certificates import services
    from registry.core.db import db

    g.cli_actor = "cli:certificates"
    done = services.resign(everything=everything)
    db.session.commit()
    click.echo(f"re-signed {len(done)} certificate{'s' if len(done) != 1 else ''}")


def _read_input(value: str) -> str:
    """A token from FILE_OR_TOKEN: a PDF (its credential.vc.jwt), a file holding a token or URL, or the text."""
    from certificates.compact import token_from_url
    from certificates.pdffile import PdfError, attachment
    from certificates.render import ATTACHMENT_NAME

    path = Path(value)
    try:
        is_file = len(value) < 4096 and path.is_file()
    except OSError:  # a token is longer than a file name may be
        is_file = False
    if is_file:
        data = path.read_bytes()
        if data.startswith(b"%PDF-"):
            try:
                return attachment(data, ATTACHMENT_NAME).decode("ascii")
            except (PdfError, UnicodeDecodeError) as exc:
                raise click.ClickException(f"{value}: {exc}") from exc
        value = data.decode("utf-8", "replace").strip()
    try:
        return token_from_url(value)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _trust(path: Path) -> dict[str, Any]:
    """The trust list as downloaded; when it carries `jws`, the signed content is what counts."""
    from jwt.api_jws import PyJWS

    from certificates.jose import SUPPORTED_ALGORITHMS
    from certificates.keys import public_key_from_jwk

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read the trust list {path}: {exc}") from exc
    jws = document.get("jws") if isinstance(document, dict) else None
    if not jws:
        return document
    try:
        header = json.loads(b64url_decode(jws.split(".")[0]))
        signed = json.loads(b64url_decode(jws.split(".")[1]))
        keys = {key["kid"]: key for key in (signed.get("registry") or {}).get("keys", [])}
        entry = keys[header["kid"]]
        PyJWS(algorithms=list(SUPPORTED_ALGORITHMS)).decode_complete(
            jws, key=public_key_from_jwk(entry["jwk"]), algorithms=[entry["jwk"]["alg"]])
    except Exception as exc:  # noqa: BLE001 - any fault means the trust list cannot be believed
        raise click.ClickException(f"the trust list's signature does not verify: {exc}") from exc
    return signed


def _status_lists(location: Path | None) -> dict[str, str]:
    """Status list credentials as downloaded (one VC-JWT per file), keyed by the URL each names itself."""
    if location is None:
        return {}
    files = sorted(p for p in location.iterdir() if p.is_file()) if location.is_dir() else [location]
    found = {}
    for file in files:
        token = file.read_text(encoding="utf-8", errors="replace").strip()
        try:
            url = json.loads(b64url_decode(token.split(".")[1]))["id"]
        except (ValueError, KeyError, IndexError, TypeError):
            continue  # not a status list credential; the verifier would not use it anyway
        found[url] = token
    return found


@click.command("verify")
@click.argument("file_or_token")
@click.option("--trust-list", "trust_path", required=True, type=click.Path(exists=True, dir_okay=False,
                                                                             path_type=Path))
@click.option("--status-list", "status_path", type=click.Path(exists=True, path_type=Path),
              help="a downloaded status list, or a directory of them")
@click.option("--json", "as_json", is_flag=True, help="print the whole result as JSON")
def verify_command(file_or_token: str, trust_path: Path, status_path: Path | None, as_json: bool) -> None:
    """Verify a certificate offline: a PDF, a .vc.jwt file, a QR token or URL. No network, no database.

    Exits 0 when VALID, 1 otherwise.
    """
    from certificates.offline import verify_offline

    token = _read_input(file_or_token)
    result = verify_offline(token, _trust(trust_path), _status_lists(status_path))
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(result.outcome.value)
        for step in result.steps:
            click.echo(f"  {step.name.value:9} {step.state.value:7} {step.detail}")
        if result.payload:
            subject = result.payload.get("credentialSubject") or {}
            click.echo(f"  holder    {subject.get('name') or result.payload.get('n')}")
    sys.exit(0 if result.valid else 1)
