"""A training hub's pages: accredited courses, cohorts (schedule, enrol, record results, certificates with their
progress), recording and withdrawing completions, the CSV import."""

from __future__ import annotations

import hashlib
import io
import re
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, url_for

from certificates import services as certificates
from certificates.models import Certificate
from curricula import importer
from curricula import services as curricula
from curricula.api import require_hub_officer_of
from curricula.models import Completion, Course, Offering
from curricula.schemas import CompletionIn, CompletionWithdrawalIn, EnrolmentIn, OfferingIn
from registry.core.auth import Account, Role, require_role
from registry.core.db import db
from registry.core.errors import Conflict, Invalid, NotFound, RegistryError
from registry.people.models import Organisation
from registry.web.base import blp, form_errors, load_form, render, today
from registry.web.certificate_forms import certificates_of_completions, cohort_certificates

COMPLETION_FIELDS = ("reference", "clinician", "course", "offering", "completed_on", "outcome", "score", "credits")
OFFERING_FIELDS = ("course", "starts_on", "ends_on", "language", "place", "capacity")
RESULT_FIELDS = ("reference", "outcome", "score")  # per enrolled clinician, named "<field>-<enrolment id>"
UPLOAD_KEPT_SECONDS = 24 * 3600
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _own_hub() -> tuple[Account, Organisation]:
    account = require_role(Role.HUB_OFFICER)
    return account, account.organisation


def _hub_page(account: Account, hub: Organisation, status: int = 200, **extra: Any):
    day = today()
    windows = curricula.accreditation_windows(hub.id)
    courses = db.session.scalars(sa.select(Course).where(Course.id.in_(list(windows))).order_by(Course.code)).all()
    accredited = [
        {"course": course, "windows": sorted(windows[course.id]),
         "current": any(start <= day and (end is None or day <= end) for start, end in windows[course.id])}
        for course in courses
    ]
    offerings = [(o, curricula.enrolled_count(o.id), certificate_progress(o)) for o in curricula.offerings_of(hub)]
    recent, total = curricula.hub_completions(hub, course=None, page=1, page_size=25)
    context: dict[str, Any] = {
        "hub": hub, "accredited": accredited, "offerings": offerings, "day": day,
        "recent": [(c, c.status_on(day)) for c in recent], "total": total,
        "recent_certificates": certificates_of_completions([c.id for c in recent]),
        "course_options": [(item["course"].code, f"{item['course'].code} · {item['course'].title_in(hub.language)}")
                           for item in accredited],
        "offering_options": [(o.id, f"{o.id}: {o.course.code}, {o.starts_on.isoformat()}") for o, _, _ in offerings],
        "form": {}, "errors": {}, "general": [], "report": None, "import_general": [], "upload": None,
        "cohort_form": {"language": hub.language}, "cohort_errors": {}, "cohort_general": [],
    }
    context.update(extra)
    return render("hub/home.html", status=status, **context)


@blp.get("/hub")
def hub_home():
    account, hub = _own_hub()
    return _hub_page(account, hub)


@blp.post("/hub/completions")
def hub_record_completion():
    account, hub = _own_hub()
    require_hub_officer_of(hub)
    try:
        data = load_form(CompletionIn(), COMPLETION_FIELDS)
        clinician = curricula.find_clinician(data["clinician"], data["licence_number"], data["board"])
        course = _course(data["course"])
        offering = None
        if data["offering"] is not None:
            try:
                offering = curricula.get_offering(data["offering"])
            except NotFound as exc:
                raise Invalid("unknown offering", errors={"offering": [exc.detail]}) from exc
        completion, created = curricula.record_completion(
            hub, clinician=clinician, course=course, offering=offering, completed_on=data["completed_on"],
            outcome=data["outcome"], score=data["score"], credits=data["credits"], reference=data["reference"],
            actor=account, today=today(),
        )
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, COMPLETION_FIELDS)
        return _hub_page(account, hub, status=exc.status, form=request.form, errors=errors, general=general)
    flash(f"Completion {completion.reference} recorded." if created
          else f"Completion {completion.reference} was already recorded with these data; nothing changed.")
    return redirect(url_for("web.hub_home"))


# --- the CSV (or JSON) import: a dry run first, then a commit of the same file ---------------------------------


def _upload_dir(hub: Organisation) -> Path:
    base = current_app.config.get("WEB_UPLOAD_DIR") or Path(current_app.instance_path) / "web-uploads"
    folder = Path(base) / re.sub(r"[^A-Za-z0-9-]", "_", hub.code)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(hub: Organisation, data: bytes, fmt: str) -> str:
    """Keep the uploaded file for the commit button, named by its SHA-256; older leftovers are removed."""
    folder = _upload_dir(hub)
    now = time.time()
    for old in folder.iterdir():
        if now - old.stat().st_mtime > UPLOAD_KEPT_SECONDS:
            old.unlink(missing_ok=True)
    sha = hashlib.sha256(data).hexdigest()
    (folder / f"{sha}.{fmt}").write_bytes(data)
    return sha


def _kept(hub: Organisation, sha: str) -> tuple[bytes, str, Path] | None:
    if not _SHA256.match(sha):
        return None
    for fmt in importer.FORMATS:
        path = _upload_dir(hub) / f"{sha}.{fmt}"
        if path.is_file():
            return path.read_bytes(), fmt, path
    return None


@blp.post("/hub/import")
def hub_import():
    account, hub = _own_hub()
    require_hub_officer_of(hub)
    commit = request.form.get("action") == "commit"
    upload = request.files.get("file")
    path: Path | None = None
    if upload is not None and upload.filename:
        data = upload.read()
        fmt = "json" if upload.filename.lower().endswith(".json") or upload.mimetype == "application/json" else "csv"
    else:
        kept = _kept(hub, request.form.get("upload", ""))
        if kept is None:
            return _hub_page(account, hub, status=422, import_general=["Choose a CSV or JSON file to upload."],
                             import_errors={"file": ["choose a file"]})
        data, fmt, path = kept
    max_bytes, _ = importer.import_limits()
    try:
        report = importer.import_completions(hub, io.BytesIO(data), fmt, dry_run=not commit, actor=account,
                                             today=today(), max_bytes=max_bytes)
        if commit:
            db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        rows = exc.extra.get("row_errors") or []
        return _hub_page(account, hub, status=exc.status, import_general=[exc.detail], row_errors=rows,
                         import_errors={"file": [exc.detail]})
    if commit:
        if path is not None:
            path.unlink(missing_ok=True)
        flash(f"Import committed: {report.summary}.")
        return redirect(url_for("web.hub_home"))
    sha = _keep(hub, data, fmt) if report.error_count == 0 else None
    return _hub_page(account, hub, report=report, upload=sha, filename=upload.filename if upload else "")


# --- certificates for a cohort ---------------------------------------------------------------------------------


@blp.post("/hub/offerings/<id:offering_id>/certificates")
def hub_issue_cohort(offering_id: int):
    """Issue the certificates of every passed, not yet certified completion of the cohort (as the API does)."""
    account, hub = _own_hub()
    offering = curricula.get_offering(offering_id)
    require_hub_officer_of(offering.hub)
    drafts, skipped = [], 0
    for completion in certificates.offering_completions(offering.id):
        try:
            drafts.append(certificates.completion_draft(completion))
        except RegistryError:
            skipped += 1
    issued = certificates.issue_many(drafts, actor=account)
    db.session.commit()
    flash(f"{len(issued)} certificate{'s' if len(issued) != 1 else ''} issued for cohort {offering.id}"
          + (f"; {skipped} completion{'s' if skipped != 1 else ''} could not be certified." if skipped else "."))
    if request.form.get("back") == "cohort":
        return redirect(url_for("web.hub_cohort", offering_id=offering.id) + "#certificates")
    return redirect(url_for("web.hub_home"))


def certificate_progress(offering: Offering) -> dict[str, int]:
    """How far the cohort's certificates are: issued (for completions not withdrawn) and still to issue (the
    completions the issuing service would certify now)."""
    issued = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Certificate.completion_id)))
        .join(Completion, Completion.id == Certificate.completion_id)
        .where(Completion.offering_id == offering.id, Completion.withdrawn_at.is_(None))
    ) or 0
    waiting = len(certificates.offering_completions(offering.id))
    return {"issued": issued, "waiting": waiting, "total": issued + waiting}


# --- cohorts: schedule one, enrol clinicians, record their results ----------------------------------------------


def _course(code: str) -> Course:
    try:
        return curricula.get_course(code)
    except NotFound as exc:
        raise Invalid("unknown course", errors={"course": [exc.detail]}) from exc


@blp.post("/hub/offerings")
def hub_create_offering():
    """Schedule a cohort of a course the hub is accredited for, as POST /api/v1/hubs/<hub>/offerings does."""
    account, hub = _own_hub()
    require_hub_officer_of(hub)
    try:
        data = load_form(OfferingIn(), OFFERING_FIELDS)
        course = _course(data.pop("course"))
        offering = curricula.create_offering(hub, course=course, actor=account, **data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, OFFERING_FIELDS)
        return _hub_page(account, hub, status=exc.status, cohort_form=request.form, cohort_errors=errors,
                         cohort_general=general)
    flash(f"Cohort {offering.id} of {offering.course.code} scheduled: {offering.starts_on.isoformat()} to "
          f"{offering.ends_on.isoformat()}, {offering.capacity} places.")
    return redirect(url_for("web.hub_cohort", offering_id=offering.id))


def _own_offering(offering_id: int) -> tuple[Account, Offering]:
    require_role(Role.HUB_OFFICER)
    offering = curricula.get_offering(offering_id)
    return require_hub_officer_of(offering.hub), offering


def _cohort_page(offering: Offering, status: int = 200, **extra: Any):
    day = today()
    results = {c.clinician_id: c for c in db.session.scalars(
        sa.select(Completion).where(Completion.offering_id == offering.id).order_by(Completion.id))}
    enrolments = curricula.enrolments_of(offering)
    enrolled_ids = {e.clinician_id for e in enrolments}
    default_day = min(offering.ends_on, day)
    context: dict[str, Any] = {
        "offering": offering, "day": day, "enrolments": enrolments, "results": results,
        "statuses": {c.id: c.status_on(day) for c in results.values()},
        "others": [c for c in results.values() if c.clinician_id not in enrolled_ids],  # recorded, not enrolled
        "progress": certificate_progress(offering), "seats_left": max(offering.capacity - len(enrolments), 0),
        "issued": cohort_certificates(offering.id),
        "enrol_form": {}, "enrol_errors": {}, "enrol_general": [],
        "results_form": {"completed_on": default_day.isoformat()}, "results_errors": {}, "results_general": [],
    }
    context.update(extra)
    return render("hub/cohort.html", status=status, **context)


@blp.get("/hub/offerings/<id:offering_id>")
def hub_cohort(offering_id: int):
    """One cohort: who is enrolled, their results, the certificates issued and still to issue."""
    _, offering = _own_offering(offering_id)
    return _cohort_page(offering)


@blp.post("/hub/offerings/<id:offering_id>/enrolments")
def hub_enrol(offering_id: int):
    """Enrol a clinician by registry number while places remain, as POST /api/v1/offerings/<id>/enrolments."""
    account, offering = _own_offering(offering_id)
    try:
        data = load_form(EnrolmentIn(), ("clinician",))
        clinician = curricula.find_clinician(data["clinician"], None, None)
        enrolment = curricula.enrol(offering, clinician, actor=account, today=today())
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("clinician",))
        if isinstance(exc, Conflict) and "existing_id" in exc.extra:  # already enrolled: about that clinician
            errors.setdefault("clinician", []).append(exc.detail)
        offering = curricula.get_offering(offering_id)
        return _cohort_page(offering, status=exc.status, enrol_form=request.form, enrol_errors=errors,
                            enrol_general=general)
    flash(f"{enrolment.clinician.full_name} ({enrolment.clinician.registry_number}) enrolled in cohort "
          f"{offering.id}.")
    return redirect(url_for("web.hub_cohort", offering_id=offering.id) + "#enrolled")


def _result_rows(offering: Offering) -> list[tuple[Any, dict[str, str]]]:
    """(enrolment, its posted result fields) for every enrolled clinician whose row was filled in."""
    rows = []
    for enrolment in curricula.enrolments_of(offering):
        posted = {f: request.form.get(f"{f}-{enrolment.id}", "").strip() for f in RESULT_FIELDS}
        if any(posted.values()):
            rows.append((enrolment, posted))
    return rows


@blp.post("/hub/offerings/<id:offering_id>/results")
def hub_record_results(offering_id: int):
    """Record the results of enrolled clinicians: one completion each through the same service as the API, all
    or nothing (a row in error writes nothing for any row), each error next to its row's field."""
    account, offering = _own_offering(offering_id)
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    created = existing = 0
    rows = _result_rows(offering)
    if not rows:
        errors["results"] = ["enter an outcome and a reference for at least one clinician"]
    for enrolment, posted in rows:
        suffix = f"-{enrolment.id}"
        form = {**posted, "clinician": enrolment.clinician.registry_number, "course": offering.course.code,
                "offering": str(offering.id), "completed_on": request.form.get("completed_on", "")}
        try:
            data = load_form(CompletionIn(), COMPLETION_FIELDS, form=form)
            _, was_new = curricula.record_completion(
                offering.hub, clinician=enrolment.clinician, course=offering.course, offering=offering,
                completed_on=data["completed_on"], outcome=data["outcome"], score=data["score"], credits=None,
                reference=data["reference"], actor=account, today=today())
            created, existing = created + was_new, existing + (not was_new)
        except RegistryError as exc:
            by_field, _ = form_errors(exc, COMPLETION_FIELDS)
            if not by_field:  # a conflict on the hub's reference, or another rule without a field
                by_field = {"reference": [exc.detail]}
            for name, messages in by_field.items():
                target = "completed_on" if name == "completed_on" else (
                    f"{name}{suffix}" if name in RESULT_FIELDS else f"row{suffix}")
                errors.setdefault(target, [])
                errors[target].extend(m for m in messages if m not in errors[target])
    if errors:
        db.session.rollback()
        general = ["Nothing was recorded: correct the fields marked below and send the results again."]
        offering = curricula.get_offering(offering_id)
        status = 422
        return _cohort_page(offering, status=status, results_form=request.form, results_errors=errors,
                            results_general=general)
    db.session.commit()
    flash(f"{created} result{'s' if created != 1 else ''} recorded for cohort {offering.id}"
          + (f"; {existing} already recorded with the same data." if existing else "."))
    return redirect(url_for("web.hub_cohort", offering_id=offering.id) + "#results")


# --- withdrawing a completion: a page that asks for the reason and confirms ----------------------------------


def _own_completion(completion_id: int) -> tuple[Account, Completion]:
    require_role(Role.HUB_OFFICER)  # before the lookup: only hubs learn which ids exist
    completion = curricula.get_completion(completion_id)
    return require_hub_officer_of(completion.hub), completion


def _withdrawal_page(completion: Completion, status: int = 200, **extra: Any):
    live = db.session.scalars(sa.select(Certificate).where(Certificate.completion_id == completion.id,
                                                           Certificate.revoked_at.is_(None))).all()
    context: dict[str, Any] = {"completion": completion, "certificates": live, "day": today(),
                               "status_today": completion.status_on(today()), "form": {}, "errors": {},
                               "general": []}
    context.update(extra)
    return render("hub/withdraw.html", status=status, **context)


@blp.get("/hub/completions/<id:completion_id>/withdrawal")
def hub_withdrawal(completion_id: int):
    _, completion = _own_completion(completion_id)
    return _withdrawal_page(completion)


@blp.post("/hub/completions/<id:completion_id>/withdrawal")
def hub_withdraw(completion_id: int):
    """Withdraw one of the hub's completions with a reason, as POST /api/v1/completions/<id>/withdrawal."""
    account, completion = _own_completion(completion_id)
    try:
        data = load_form(CompletionWithdrawalIn(), ("reason",))
        curricula.withdraw_completion(completion, reason=data["reason"], actor=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("reason",))
        completion = curricula.get_completion(completion_id)
        return _withdrawal_page(completion, status=exc.status, form=request.form, errors=errors, general=general)
    flash(f"Completion {completion.reference} withdrawn; the record stays, marked withdrawn.")
    if completion.offering_id is not None:
        return redirect(url_for("web.hub_cohort", offering_id=completion.offering_id) + "#results")
    return redirect(url_for("web.hub_home") + "#h-recent")
