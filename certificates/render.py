"""The certificate PDF: HTML from a plain snapshot dict, rendered by WeasyPrint, A4 landscape.

Nothing here touches the database or the ORM: the template context is the snapshot stored on the
certificate (plus the signed credential and its verification URL), so a PDF rendered again from the
same inputs says the same thing. The renderer fetches nothing: a url_fetcher refuses every URL
that is not a data: URI (no file:, no http:), and the QR code is an inline SVG data URI.

For benchmarks and batch jobs: `certificate_html(snapshot, url)` gives the HTML (its CSS is
CERTIFICATE_CSS), `render_pdf(snapshot, credential, url)` one PDF, `render_many(jobs)` many, in
two worker processes when the batch is big.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from certificates.qr import make_qr

TEMPLATES = Path(__file__).resolve().parent / "templates"
ATTACHMENT_NAME = "credential.vc.jwt"
QR_MAX_VERSION = 20
POOL_WORKERS = 2
POOL_THRESHOLD = 3  # batches of this many PDFs or more render in worker processes

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "course_completion": "Certificate of course completion",
        "recognition": "Certificate of recognition",
        "good_standing": "Certificate of good standing",
        "holder": "Holder",
        "registry_number": "Registry number",
        "issuer": "Issued by",
        "member_state": "Member state",
        "course": "Course",
        "completed_on": "Completed on",
        "outcome": "Outcome",
        "passed": "Passed",
        "score": "Score",
        "credits": "CPD credits",
        "profession": "Profession",
        "licence": "Licence",
        "home_licence": "Home licence",
        "host_state": "Recognised in",
        "conditions": "Conditions",
        "granted_on": "Granted on",
        "status_on": "Status on",
        "standing": "Standing",
        "active_unrestricted": "Active, without restriction",
        "valid_from": "Valid from",
        "valid_until": "Valid until",
        "no_end": "no end date",
        "issued_on": "Issued on",
        "verification_code": "Verification code",
        "verify_hint": "Scan the QR code, or enter the verification code at",
        "replaces": "Replaces certificate",
    },
    "fr": {
        "course_completion": "Certificat de réussite de formation",
        "recognition": "Certificat de reconnaissance",
        "good_standing": "Certificat de bonne conduite professionnelle",
        "holder": "Titulaire",
        "registry_number": "Numéro au registre",
        "issuer": "Délivré par",
        "member_state": "État membre",
        "course": "Formation",
        "completed_on": "Achevée le",
        "outcome": "Résultat",
        "passed": "Réussi",
        "score": "Note",
        "credits": "Crédits de DPC",
        "profession": "Profession",
        "licence": "Autorisation d'exercer",
        "home_licence": "Autorisation d'origine",
        "host_state": "Reconnu en",
        "conditions": "Conditions",
        "granted_on": "Accordée le",
        "status_on": "Situation au",
        "standing": "Situation",
        "active_unrestricted": "En vigueur, sans restriction",
        "valid_from": "Valable à partir du",
        "valid_until": "Valable jusqu'au",
        "no_end": "sans date de fin",
        "issued_on": "Délivré le",
        "verification_code": "Code de vérification",
        "verify_hint": "Scannez le code QR ou saisissez le code de vérification sur",
        "replaces": "Remplace le certificat",
    },
    "pt": {
        "course_completion": "Certificado de conclusão de curso",
        "recognition": "Certificado de reconhecimento",
        "good_standing": "Certificado de boa conduta profissional",
        "holder": "Titular",
        "registry_number": "Número de registo",
        "issuer": "Emitido por",
        "member_state": "Estado-membro",
        "course": "Curso",
        "completed_on": "Concluído em",
        "outcome": "Resultado",
        "passed": "Aprovado",
        "score": "Classificação",
        "credits": "Créditos de DPC",
        "profession": "Profissão",
        "licence": "Licença",
        "home_licence": "Licença de origem",
        "host_state": "Reconhecido em",
        "conditions": "Condições",
        "granted_on": "Concedido em",
        "status_on": "Situação em",
        "standing": "Situação",
        "active_unrestricted": "Ativa, sem restrições",
        "valid_from": "Válido a partir de",
        "valid_until": "Válido até",
        "no_end": "sem data de fim",
        "issued_on": "Emitido em",
        "verification_code": "Código de verificação",
        "verify_hint": "Leia o código QR ou introduza o código de verificação em",
        "replaces": "Substitui o certificado",
    },
}

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


class RenderRefused(ValueError):
    """The document asked for a resource that is not a data: URI (a file: or remote URL)."""


class QrTooLarge(ValueError):
    """The verification URL does not fit a QR code of version 20 at error correction M."""


def language_of(language: str | None) -> str:
    """The label language for an issuer language: en, fr or pt (others fall back to English)."""
    primary = (language or "en").split("-")[0].lower()
    return primary if primary in LABELS else "en"


def labels(language: str | None) -> dict[str, str]:
    """Each label in the issuer's language, followed by English when that is another language."""
    lang = language_of(language)
    if lang == "en":
        return dict(LABELS["en"])
    return {key: f"{LABELS[lang][key]} / {LABELS['en'][key]}" for key in LABELS["en"]}


def qr_code(url: str) -> tuple[str, int]:
    """An SVG data URI of the QR code for `url` and its version (at most 20, error correction M)."""
    qr = make_qr(url)  # segno.make(url, error="m", boost_error=False, micro=False), its mask chosen faster
    if qr.version > QR_MAX_VERSION:
        raise QrTooLarge(f"the URL needs QR version {qr.version}; at most {QR_MAX_VERSION} is allowed")
    return qr.svg_data_uri(scale=4, border=2, dark="#000", light="#fff"), qr.version


def _day(value: str | None) -> str:
    return date.fromisoformat(value[:10]).strftime("%d.%m.%Y") if value else ""


_env.filters["day"] = _day


def certificate_html(snapshot: Mapping[str, Any], verification_url: str) -> str:
    """The certificate's HTML, from the snapshot dict and the QR's verification URL."""
    qr_uri, qr_version = qr_code(verification_url)
    lang = language_of(snapshot.get("language"))
    return _env.get_template("certificate.html").render(
        c=snapshot,
        t=labels(lang),
        lang=lang,
        qr_uri=qr_uri,
        qr_version=qr_version,
        verification_url=verification_url,
        verify_page=verification_url.split("?")[0],
        css=CERTIFICATE_CSS,
    )


def page_html(template: str, **context: Any) -> str:
    """A server-rendered page from this package's templates (the verification page)."""
    return _env.get_template(template).render(**context)


CERTIFICATE_CSS = (TEMPLATES / "certificate.css").read_text(encoding="utf-8")


def _fetcher():
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):
        """Refuses file:, http(s): and everything else that is not inline data."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data"}, fail_on_errors=True)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.lower().startswith("data:"):
                raise RenderRefused(f"the renderer fetches no external resource: {url[:80]}")
            return super().fetch(url, headers)

    return DataOnlyFetcher()


def html_to_pdf(html: str, credential: str | None = None) -> bytes:
    """Render HTML to PDF with the data-only fetcher, attaching the credential as credential.vc.jwt."""
    from weasyprint import HTML, Attachment
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _fetcher()
    attachments = []
    if credential is not None:
        attachments.append(Attachment(string=credential, name=ATTACHMENT_NAME, url_fetcher=fetcher,
                                      description="W3C Verifiable Credential (VC-JWT)"))
    try:
        return HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf(attachments=attachments)
    except FatalURLFetchingError as exc:
        cause = exc.__cause__
        raise RenderRefused(str(cause) if cause else str(exc)) from None


def render_pdf(snapshot: Mapping[str, Any], credential: str, verification_url: str) -> bytes:
    """One certificate PDF from its snapshot, its signed credential and the QR's verification URL."""
    return html_to_pdf(certificate_html(snapshot, verification_url), credential)


def _render_job(job: tuple[dict[str, Any], str, str]) -> bytes:
    return render_pdf(*job)


def render_many(jobs: Sequence[tuple[dict[str, Any], str, str]]) -> list[bytes]:
    """Render many PDFs ((snapshot, credential, url) each), in two worker processes for a big batch."""
    if len(jobs) < POOL_THRESHOLD:
        return [render_pdf(*job) for job in jobs]
    # spawn: a fresh interpreter, never a fork of a process holding database connections and threads.
    with ProcessPoolExecutor(max_workers=POOL_WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_render_job, jobs))
