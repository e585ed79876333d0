"""HTTP API: issuing, downloading, revoking and verifying certificates; keys, JWKS, trust list, status lists.

`blp` holds the /api/v1 routes; `public_blp` the two that live at the site root: the JWKS at
/.well-known/jwks.json and the verification page /verify (server-rendered, no script, no remote assets).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson
from flask import Request, Response, abort, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, validate

from certificates import render, services, verify_labels
from certificates.models import Certificate, CertificateKindColumn
from certificates.ratelimit import TokenBucket, retry_after_header
from certificates.schemas import (
    BatchOut,
    CertificateOut,
    CompromiseIn,
    GoodStandingIn,
    KeyOut,
    KeyRotationIn,
    ReissueIn,
    StatementOut,
    StatementQuery,
    StatusChangeIn,
    VerificationLogOut,
    VerifyIn,
    VerifyOut,
)
from curricula import services as curricula
from curricula.api import require_hub_officer_of
from registry.core.auth import Account, Role, current_account, current_caller_or_none, require_role
from registry.core.db import db, expect_writes, start_writing
from registry.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RegistryError,
    TooManyRequests,
    problem_response,
)
from registry.core.prepared import independent_reads
from registry.core.schemas import check_json_body, request_body
from registry.licensing.services import find_licence
from registry.people import services as people
from registry.people.api import can_read_full_record
from registry.people.models import Clinician
from registry.recognition import services as recognition_services
from registry.recognition.api import require_host_board
from registry.recognition.models import RecognitionStatus
from registry.recognition.practise import right_to_practise

if TYPE_CHECKING:
    from registry.licensing.models import Licence
    from registry.recognition.models import Recognition

blp = Blueprint("certificates", __name__, url_prefix="/api/v1",
                description="Certificates: issuing, downloading, status, verification, keys and trust list")
public_blp = Blueprint("certificates_public", __name__, url_prefix="",
                       description="The JWKS and the public verification page")

_PUBLIC_CACHE = "public, max-age=300"
DEFAULT_RATE_PER_MINUTE = 30
DEFAULT_BURST = 20


# --- permissions -----------------------------------------------------------------------------------------------


def require_issuer(certificate: Certificate) -> Account:
    """Only officers of the organisation that issued the certificate change its status."""
    account = require_role(Role.HUB_OFFICER, Role.BOARD_OFFICER)
    if account.organisation_id != certificate.issuer_id:
        raise Forbidden(f"only officers of {certificate.issuer.code} act on its certificates")
    return account


def can_read_certificate(account: Account, certificate: Certificate) -> bool:
    """The issuing organisation, boards and the secretariat, and the clinician themself."""
    if account.organisation_id is not None and account.organisation_id == certificate.issuer_id:
        return True
    return can_read_full_record(account, db.session.get(Clinician, certificate.clinician_id))


def _readable(certificate_id: int) -> Certificate:
    account = current_account()  # before the lookup: an anonymous caller learns not even which ids exist
    certificate = services.get_certificate(certificate_id)
    if not can_read_certificate(account, certificate):
        raise Forbidden("you may not read this certificate")
    return certificate


def _readable_clinician(registry_number: str) -> Clinician:
    account = current_account()  # before the lookup: an anonymous caller learns not which registry numbers exist
    clinician = people.get_clinician(registry_number)
    if not can_read_full_record(account, clinician):
        raise Forbidden("you may not read this clinician's certificates")
    return clinician


def _own_clinician() -> Clinician:
    account = require_role(Role.CLINICIAN)
    return db.session.get(Clinician, account.clinician_id)


# --- the rate limit --------------------------------------------------------------------------------------------


def limiter() -> TokenBucket:
    """The verification rate limiter of this worker process (see certificates.ratelimit)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    bucket = app.extensions.get("certificates_verify_limiter")
    if bucket is None:
        bucket = TokenBucket(float(app.config.get("VERIFY_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE)),
                             int(app.config.get("VERIFY_BURST", DEFAULT_BURST)))
        app.extensions["certificates_verify_limiter"] = bucket
    return bucket


def _throttle(req: Request) -> None:
    """429 problem+json with Retry-After when the client is over its rate."""
    wait = limiter().take(req.remote_addr or "unknown")
    if wait is not None:
        retry = retry_after_header(wait)
        problem = TooManyRequests("too many verifications from this address; retry later",
                                  retry_after=int(retry)).to_problem()
        abort(problem_response(problem, {"Retry-After": retry}))


# --- issuing ---------------------------------------------------------------------------------------------------


@blp.route("/completions/<id:completion_id>/certificate")
class CompletionCertificate(MethodView):
    @blp.response(201, CertificateOut)
    def post(self, completion_id):
        """Issue the certificate of a passed completion (the recording hub's officers); 409 if already issued."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        completion = curricula.get_completion(completion_id)
        account = require_hub_officer_of(completion.hub)
        certificate = services.issue(services.completion_draft(completion), actor=account)
        db.session.commit()
        return certificate


@blp.route("/offerings/<id:offering_id>/certificates")
class OfferingCertificates(MethodView):
    @blp.response(201, BatchOut)
    def post(self, offering_id):
        """Issue the certificates of a whole cohort: every passed completion not yet certified (the hub's officers).

        The PDFs are rendered in two worker processes for a big batch.
        """
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        offering = curricula.get_offering(offering_id)
        account = require_hub_officer_of(offering.hub)
        drafts, skipped = [], []
        for completion in services.offering_completions(offering.id):
            try:
                drafts.append(services.completion_draft(completion))
            except RegistryError as exc:  # pragma: no cover - the query already leaves these out
                skipped.append({"completion_id": completion.id, "reason": exc.detail})
        issued = services.issue_many(drafts, actor=account)
        db.session.commit()
        return {"issued": issued, "skipped": skipped}


@blp.route("/recognitions/<id:recognition_id>/certificate")
class RecognitionCertificate(MethodView):
    @blp.response(201, CertificateOut)
    def post(self, recognition_id):
        """Issue the certificate of a granted recognition (a board of the host state); 409 if already issued."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        recognition = recognition_services.get_recognition(recognition_id)
        certificate = issue_recognition_certificate(recognition, require_host_board(recognition))
        db.session.commit()
        return certificate


def issue_recognition_certificate(recognition: Recognition, account: Account) -> Certificate:
    """The certificate of a granted recognition, issued by `account`'s board (checked by require_host_board)."""
    draft = services.recognition_draft(recognition, account.organisation, date.today())
    return services.issue(draft, actor=account)


def require_certifying_board(licence: Licence) -> Account:
    """Only officers of the board that issued a licence certify its good standing."""
    account = require_role(Role.BOARD_OFFICER)
    if account.organisation_id != licence.board_id:
        raise Forbidden(f"only {licence.board.code} certifies the standing of its licences")
    return account


def issue_good_standing_certificate(licence: Licence, on: date | None, account: Account) -> Certificate:
    """A good-standing certificate of the licence on `on` (default today), valid three months."""
    return services.issue(services.good_standing_draft(licence, on or date.today()), actor=account)


@blp.route("/licences/<id:licence_id>/good-standing-certificate")
class GoodStandingCertificate(MethodView):
    @blp.arguments(GoodStandingIn())
    @blp.response(201, CertificateOut)
    def post(self, data, licence_id):
        """Certify that a licence is active and unrestricted on a date, for three months (the issuing board)."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        licence = find_licence(licence_id)
        certificate = issue_good_standing_certificate(licence, data["on"], require_certifying_board(licence))
        db.session.commit()
        return certificate


def _redraft(certificate: Certificate, account: Account):
    if certificate.kind is CertificateKindColumn.COURSE_COMPLETION:
        return services.completion_draft(curricula.get_completion(certificate.completion_id))
    if certificate.kind is CertificateKindColumn.RECOGNITION:
        recognition = recognition_services.get_recognition(certificate.recognition_id)
        return services.recognition_draft(recognition, account.organisation, date.today())
    on = date.fromisoformat(certificate.snapshot["credential_subject"]["statusOn"])
    return services.good_standing_draft(find_licence(certificate.licence_id), on)


# --- one certificate -------------------------------------------------------------------------------------------


@blp.route("/certificates/<id:certificate_id>")
class CertificateItem(MethodView):
    @blp.response(200, CertificateOut)
    def get(self, certificate_id):
        """A certificate and its status (the issuer, boards, the secretariat, the clinician)."""
        return _readable(certificate_id)


@blp.route("/certificates/<id:certificate_id>/pdf")
class CertificatePdf(MethodView):
    def get(self, certificate_id):
        """The PDF as issued: the same bytes every time (its SHA-256 is in the certificate)."""
        # The issuing organisation's own officers (a hub handing out a cohort's PDFs) are answered from one
        # prepared read of the columns needed; everyone else goes through the full permission check.
        caller = current_caller_or_none()
        found = services.pdf_of(certificate_id) if caller is not None and caller.organisation_id else None
        if found is None or found.issuer_id != caller.organisation_id:
            found = _readable(certificate_id)
        response = current_app.response_class(found.pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="certificate-{found.id}.pdf"'
        response.headers["Cache-Control"] = "private, no-store"
        response.set_etag(found.pdf_sha256)
        return response


@blp.route("/certificates/<id:certificate_id>/credential")
class CertificateCredential(MethodView):
    def get(self, certificate_id):
        """The signed credential (VC-JWT, application/vc+jwt)."""
        certificate = _readable(certificate_id)
        response = current_app.response_class(certificate.credential, mimetype="application/vc+jwt")
        response.headers["Content-Disposition"] = f'attachment; filename="certificate-{certificate.id}.vc.jwt"'
        return response


@blp.route("/certificates/<id:certificate_id>/status")
class CertificateStatus(MethodView):
    @blp.arguments(StatusChangeIn())
    @blp.response(200, CertificateOut)
    def post(self, data, certificate_id):
        """Revoke (permanent, reason required), suspend or unsuspend (the issuing organisation's officers)."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        certificate = services.get_certificate(certificate_id)
        change_status(certificate, data, require_issuer(certificate))
        db.session.commit()
        return certificate


def change_status(certificate: Certificate, data: dict[str, Any], account: Account) -> Certificate:
    """Revoke (a reason is required), suspend or unsuspend, as loaded by StatusChangeIn; the caller has checked
    require_issuer. Also used by the pages."""
    if data["action"] == "revoke":
        if not data["reason"]:
            raise Invalid("a revocation needs a reason", errors={"reason": ["is required to revoke"]})
        return services.revoke(certificate, reason=data["reason"], actor=account)
    if data["action"] == "suspend":
        return services.suspend(certificate, reason=data["reason"], actor=account)
    if certificate.kind is CertificateKindColumn.RECOGNITION and certificate.suspended:
        # The recognition's suspension suspended its certificate; only its reinstatement lifts that (the cascade).
        recognition = recognition_services.get_recognition(certificate.recognition_id)
        if recognition.status is RecognitionStatus.SUSPENDED:
            raise Conflict(f"recognition {recognition.id} is suspended; its certificate is unsuspended when the "
                           "recognition is reinstated")
    return services.unsuspend(certificate, reason=data["reason"], actor=account)


@blp.route("/certificates/<id:certificate_id>/reissue")
class CertificateReissue(MethodView):
    @blp.arguments(ReissueIn())
    @blp.response(201, CertificateOut)
    def post(self, data, certificate_id):
        """A correction: a new certificate from the current data, linked to this one, which is revoked."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        certificate = services.get_certificate(certificate_id)
        account = require_issuer(certificate)
        if certificate.current_key is None:
            raise Conflict(f"certificate {certificate.credential_id} was already replaced")
        key, certificate.current_key = certificate.current_key, None
        db.session.flush()
        draft = _redraft(certificate, account)
        certificate.current_key = key
        new = services.reissue(certificate, draft, reason=data["reason"], actor=account)
        db.session.commit()
        return new


# --- a clinician's certificates and who verified them ----------------------------------------------------------


@blp.route("/clinicians/<registry_number>/certificates")
class ClinicianCertificates(MethodView):
    @blp.response(200, CertificateOut(many=True))
    def get(self, registry_number):
        """A clinician's certificates with their status (boards, the secretariat, the clinician)."""
        return services.certificates_of(_readable_clinician(registry_number).id)


@blp.route("/me/certificates")
class MyCertificates(MethodView):
    @blp.response(200, CertificateOut(many=True))
    def get(self):
        """The signed-in clinician's certificates."""
        return services.certificates_of(_own_clinician().id)


@blp.route("/clinicians/<registry_number>/verifications")
class ClinicianVerifications(MethodView):
    @blp.response(200, VerificationLogOut(many=True))
    def get(self, registry_number):
        """Who verified this clinician's certificates, when, and the result (the clinician, boards, secretariat)."""
        return services.verifications_of(_readable_clinician(registry_number).id)


@blp.route("/me/verifications")
class MyVerifications(MethodView):
    @blp.response(200, VerificationLogOut(many=True))
    def get(self):
        """Who verified the signed-in clinician's certificates."""
        return services.verifications_of(_own_clinician().id)


# --- verification ----------------------------------------------------------------------------------------------


_VERIFY_IN = VerifyIn()  # one instance: building a schema per request cost more than loading with it
_TOKEN_LENGTH = next(v for v in VerifyIn._declared_fields["token"].validators if isinstance(v, validate.Length))


def _is_token(value: Any) -> bool:
    return type(value) is str and _TOKEN_LENGTH.min <= len(value) <= _TOKEN_LENGTH.max


def _token_body(raw: bytes) -> dict[str, str] | None:
    """The body when it is exactly {"token": "<a token>"}, else None (check_json_body and VerifyIn then decide).

    orjson reads it in a fraction of json's time. Where the two parsers differ (orjson turns integers beyond
    64 bits into floats, refuses NaN, lone surrogates and invalid UTF-8), a body with one string member is
    either refused by orjson, and then read again by check_json_body, or read the same by both.
    """
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(document) is dict and len(document) == 1 and _is_token(document.get("token")):
        return document
    return None


def _verify_body(req: Request) -> services.Checked:
    if req.mimetype == "multipart/form-data":
        if set(req.files) != {"file"} or len(req.files.getlist("file")) != 1 or list(req.form):
            raise Invalid("send exactly one PDF, in a form field named 'file'",
                          errors={"file": ["send exactly one file named 'file'"]})
        return services.check_pdf(req.files["file"].read())
    raw = request_body(req)
    document = _token_body(raw)
    if document is not None:
        data = document  # {"token": "..."}, which VerifyIn loads as it is; everything else goes through VerifyIn
    else:
        document = check_json_body(raw) if raw else {}
        try:
            data = _VERIFY_IN.load(document)
        except ValidationError as exc:
            raise Invalid("invalid value for: " + ", ".join(sorted(exc.messages)), errors=exc.messages) from exc
    if len(data) != 1:
        raise Invalid("send exactly one of token or code",
                      errors={"token": ["send exactly one of token or code"]})
    if "code" in data:
        return check_code_logged(data["code"])
    return services.check_token(data["token"])


def check_code_logged(code: str) -> services.Checked:
    """services.check_code; a well-formed code that names no certificate is logged (committed) before its 404."""
    try:
        return services.check_code(code)
    except services.UnknownCode:
        services.log_unknown_code(current_caller_or_none())
        raise


@blp.route("/verify")
class Verify(MethodView):
    # A PDF comes as a multipart upload; a token or a code as JSON.
    accepts_media = {"application/json", "multipart/form-data"}

    @blp.response(200, VerifyOut)
    def post(self):
        """Verify a token ({"token"}), a verification code ({"code"}) or an uploaded PDF (multipart, field `file`).

        Answers every step (format, issuer, key, signature, claims, dates, status) and the outcome: VALID,
        REVOKED, SUSPENDED, EXPIRED, NOT_YET_VALID, UNKNOWN_ISSUER, UNKNOWN_KEY, KEY_COMPROMISED,
        KEY_OUTSIDE_WINDOW, INVALID_SIGNATURE, UNSUPPORTED_ALGORITHM, WRONG_TYPE, MALFORMED, INVALID_CLAIMS, ...
        The data shown is the verified token's. For a PDF, `pdf.identical_to_issued` compares its SHA-256 with
        the file issued. Public and rate-limited per client address (per worker process); each is logged.
        A well-formed code that names no certificate answers 404 and is logged too (outcome UNKNOWN_CERTIFICATE);
        a malformed one is a 422 and is not.
        """
        req = request._get_current_object()  # type: ignore[attr-defined]  (once: a proxy lookup costs ~1 µs)
        _throttle(req)
        # Verifying only reads; its one write is the log row. On SQLite the reads must not hold the write lock
        # (a POST otherwise begins IMMEDIATE), or verifications would queue behind each other.
        expect_writes(False)
        independent_reads()  # one statement reads the status bits, the trust list version and the certificate
        checked = _verify_body(req)
        services.log_verification(checked, current_caller_or_none())
        # as_dict is already VerifyOut's shape (plain strings, booleans and the verified JSON objects), so it is
        # sent as it is; VerifyOut documents it (tests/certificates check the two agree). orjson writes it in a
        # tenth of the time of Flask's provider, which sorts every key of the payload.
        return Response(orjson.dumps(checked.as_dict()), mimetype="application/json")


# --- keys, JWKS, trust list, status lists, statements ---------------------------------------------------------


@blp.route("/issuers/<code>/keys")
class IssuerKeys(MethodView):
    @blp.response(200, KeyOut(many=True))
    def get(self, code):
        """An issuer's public keys and their windows (public)."""
        return services.keys_of(people.get_organisation(code))

    @blp.arguments(KeyRotationIn())
    @blp.response(201, KeyOut)
    def post(self, data, code):
        """Rotate: a new key signs from now on; the old one still verifies what it signed (secretariat)."""
        account = require_role(Role.SECRETARIAT_ADMIN)
        key = services.rotate_key(people.get_organisation(code), alg=data["alg"], actor=account)
        db.session.commit()
        return key


@blp.route("/keys/<kid>/compromise")
class KeyCompromise(MethodView):
    @blp.arguments(CompromiseIn())
    @blp.response(200, KeyOut)
    def post(self, data, kid):
        """Mark a key compromised: what it signed fails until `registry certificates resign` (secretariat)."""
        account = require_role(Role.SECRETARIAT_ADMIN)
        key = services.compromise_key(services.get_key(kid), reason=data["reason"], actor=account)
        db.session.commit()
        return key


def _public_json(document: dict[str, Any]):
    response = current_app.json.response(document)
    response.headers["Cache-Control"] = _PUBLIC_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blp.route("/trust-list")
class TrustListView(MethodView):
    def get(self):
        """The trust list: issuers, member states, kinds, keys and windows; `jws` is it signed by the registry key."""
        start_writing()  # the registry key is created on first use
        document = services.signed_trust_list()
        db.session.commit()
        return _public_json(document)


@blp.route("/status-lists/<id:list_id>")
class StatusListView(MethodView):
    def get(self, list_id):
        """A Bitstring Status List credential (VC-JWT) at its stable URL; short caching with an ETag."""
        start_writing()  # the list is re-signed when its bits changed or it aged
        status_list = services.get_status_list(list_id)
        token = services.signed_status_list(status_list)
        db.session.commit()
        response = current_app.response_class(token, mimetype="application/vc+jwt")
        response.headers["Cache-Control"] = _PUBLIC_CACHE
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.set_etag(hashlib.sha256(token.encode()).hexdigest()[:32])
        return response.make_conditional(request)


@blp.route("/right-to-practise/statement")
class RightToPractiseStatement(MethodView):
    @blp.arguments(StatementQuery(), location="query")
    @blp.response(200, StatementOut)
    def get(self, args):
        """The right-to-practise answer as a signed statement (typ rtp+jwt, ten minutes), verifiable with the JWKS."""
        account = current_account()
        try:
            clinician = people.get_clinician(args["clinician"])
        except NotFound as exc:
            raise Invalid(exc.detail, errors={"clinician": [exc.detail]}) from exc
        if not can_read_full_record(account, clinician):
            raise Forbidden("boards, the secretariat and the clinician themself may ask")
        people.get_state(args["state"])
        answer = right_to_practise(clinician, args["state"], args["profession"], args["on"] or date.today())
        start_writing()  # the registry key is created on first use
        statement = services.sign_statement(answer)
        db.session.commit()
        return {"statement": statement}


@public_blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    def get(self):
        """Every issuer's and the registry's public keys (compromised keys are withdrawn)."""
        return _public_json(services.jwks_document())


def verify_page_context() -> dict[str, Any]:
    """The page's language and labels (?lang= or Accept-Language), and what the app's pages add (a form token)."""
    extras = current_app.extensions.get("page_context")
    return {"csrf_token": "", **(extras() if extras else {}), **verify_labels.page_context()}


@public_blp.route("/verify")
class VerifyPage(MethodView):
    def get(self):
        """The page a certificate's QR code opens: verifies ?t=<token> or ?code=<code>; works without script."""
        token, code = request.args.get("t", "").strip(), request.args.get("code", "").strip()
        context: dict[str, Any] = {"token": token, "code": code, "result": None, "error": None,
                                   **verify_page_context()}
        status = 200
        headers = {"Cache-Control": "no-store"}
        wait = limiter().take(request.remote_addr or "unknown") if token or code else None
        if wait is not None:
            context["error"], status = context["t"]["too_many"], 429
            headers["Retry-After"] = retry_after_header(wait)
        elif token or code:
            try:  # every verification is logged
                checked = services.check_token(token, method="qr") if token else check_code_logged(code)
                services.log_verification(checked, current_caller_or_none())
                context["result"] = checked.as_dict()
            except (Invalid, NotFound) as exc:
                context["error"], status = exc.detail, exc.status
        html = render.page_html("verify_page.html", **context)
        return current_app.response_class(html, status=status, mimetype="text/html", headers=headers)
