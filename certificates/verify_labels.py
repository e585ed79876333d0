"""The verification page's own words in English, French and Portuguese (the certificate's data stays as issued)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request

LANGUAGES = {"en": "English", "fr": "Français", "pt": "Português"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Verify a certificate",
        "site": "Workforce Registry",
        "states": "What the certificate states",
        "holder": "Holder",
        "registry_number": "Registry number",
        "certificate": "Certificate",
        "course": "Course",
        "profession": "Profession",
        "recognised_in": "Recognised in",
        "licence": "Licence",
        "about": "About",
        "issued_by": "Issued by",
        "valid_from": "Valid from",
        "valid_until": "Valid until",
        "no_end": "no end date",
        "credential": "Credential",
        "checks": "Checks",
        "pdf_identical": "The PDF is the file issued",
        "pdf_changed": "The PDF differs from the file issued; trust only the data shown here",
        "code_label": "Verification code (as printed, e.g. 7K3M-Q9XD-2HT8)",
        "verify": "Verify",
        "pdf_label": "Or upload the certificate PDF",
        "pdf_button": "Verify the PDF",
        "privacy": "Only what the certificate states and its status are shown. Verifications are logged.",
        "too_many": "Too many verifications from this address; retry in a minute.",
        "language": "Language",
        "home": "Home",
        "checked_at": "Checked at",
        "utc": "UTC",
        "mark_passed": "passed",
        "mark_failed": "failed",
        "mark_skipped": "not checked",
        "step_format": "Format",
        "step_issuer": "Issuer trusted",
        "step_key": "Key valid at issuance",
        "step_signature": "Signature",
        "step_claims": "Claims",
        "step_dates": "Dates",
        "step_status": "Not revoked or suspended",
        "verdict_valid": "VALID",
        "verdict_revoked": "REVOKED",
        "verdict_suspended": "SUSPENDED",
        "verdict_expired": "EXPIRED",
        "verdict_not_yet_valid": "NOT YET VALID",
        "verdict_not_valid": "NOT VALID",
    },
    "fr": {
        "title": "Vérifier un certificat",
        "site": "Registre des professionnels de santé",
        "states": "Ce que le certificat atteste",
        "holder": "Titulaire",
        "registry_number": "Numéro au registre",
        "certificate": "Certificat",
        "course": "Formation",
        "profession": "Profession",
        "recognised_in": "Reconnu en",
        "licence": "Autorisation d'exercice",
        "about": "Objet",
        "issued_by": "Délivré par",
        "valid_from": "Valable à partir du",
        "valid_until": "Valable jusqu'au",
        "no_end": "sans date de fin",
        "credential": "Attestation",
        "checks": "Contrôles",
        "pdf_identical": "Le PDF est le fichier délivré",
        "pdf_changed": "Le PDF diffère du fichier délivré ; ne vous fiez qu'aux données affichées ici",
        "code_label": "Code de vérification (tel qu'imprimé, p. ex. 7K3M-Q9XD-2HT8)",
        "verify": "Vérifier",
        "pdf_label": "Ou téléversez le PDF du certificat",
        "pdf_button": "Vérifier le PDF",
        "privacy": "Seuls le contenu du certificat et son statut sont affichés. Les vérifications sont journalisées.",
        "too_many": "Trop de vérifications depuis cette adresse ; réessayez dans une minute.",
        "language": "Langue",
        "home": "Accueil",
        "checked_at": "Vérifié le",
        "utc": "UTC",
        "mark_passed": "réussi",
        "mark_failed": "échoué",
        "mark_skipped": "non vérifié",
        "step_format": "Format",
        "step_issuer": "Émetteur de confiance",
        "step_key": "Clé valide à l'émission",
        "step_signature": "Signature",
        "step_claims": "Contenu",
        "step_dates": "Dates",
        "step_status": "Ni révoqué ni suspendu",
        "verdict_valid": "VALIDE",
        "verdict_revoked": "RÉVOQUÉ",
        "verdict_suspended": "SUSPENDU",
        "verdict_expired": "EXPIRÉ",
        "verdict_not_yet_valid": "PAS ENCORE VALIDE",
        "verdict_not_valid": "NON VALIDE",
    },
    "pt": {
        "title": "Verificar um certificado",
        "site": "Registo de profissionais de saúde",
        "states": "O que o certificado declara",
        "holder": "Titular",
        "registry_number": "Número de registo",
        "certificate": "Certificado",
        "course": "Curso",
        "profession": "Profissão",
        "recognised_in": "Reconhecido em",
        "licence": "Licença",
        "about": "Assunto",
        "issued_by": "Emitido por",
        "valid_from": "Válido desde",
        "valid_until": "Válido até",
        "no_end": "sem data de fim",
        "credential": "Credencial",
        "checks": "Verificações",
        "pdf_identical": "O PDF é o ficheiro emitido",
        "pdf_changed": "O PDF difere do ficheiro emitido; confie apenas nos dados aqui mostrados",
        "code_label": "Código de verificação (tal como impresso, p. ex. 7K3M-Q9XD-2HT8)",
        "verify": "Verificar",
        "pdf_label": "Ou carregue o PDF do certificado",
        "pdf_button": "Verificar o PDF",
        "privacy": "Só é mostrado o que o certificado declara e o seu estado. As verificações são registadas.",
        "too_many": "Demasiadas verificações a partir deste endereço; tente novamente dentro de um minuto.",
        "language": "Idioma",
        "home": "Início",
        "checked_at": "Verificado em",
        "utc": "UTC",
        "mark_passed": "aprovado",
        "mark_failed": "reprovado",
        "mark_skipped": "não verificado",
        "step_format": "Formato",
        "step_issuer": "Emissor de confiança",
        "step_key": "Chave válida na emissão",
        "step_signature": "Assinatura",
        "step_claims": "Conteúdo",
        "step_dates": "Datas",
        "step_status": "Nem revogado nem suspenso",
        "verdict_valid": "VÁLIDO",
        "verdict_revoked": "REVOGADO",
        "verdict_suspended": "SUSPENSO",
        "verdict_expired": "EXPIRADO",
        "verdict_not_yet_valid": "AINDA NÃO VÁLIDO",
        "verdict_not_valid": "NÃO VÁLIDO",
    },
}


def page_language() -> str:
    """?lang= when it names a known language, else the browser's Accept-Language, else English."""
    asked = request.args.get("lang", "") or request.form.get("lang", "")
    if asked in LABELS:
        return asked
    return request.accept_languages.best_match(list(LABELS), default="en") or "en"


def checked_at(now: datetime | None = None) -> dict[str, str]:
    """When the check ran, in UTC: for a <time datetime> attribute and as shown (the same in every language)."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return {"iso": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "shown": now.strftime("%Y-%m-%d %H:%M:%S")}


def page_context() -> dict:
    """The language, its labels, the languages to switch to, and the time of this check (UTC)."""
    lang = page_language()
    return {"lang": lang, "t": LABELS[lang], "languages": LANGUAGES, "checked_at": checked_at()}
