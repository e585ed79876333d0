"""A training hub's pages: accredited courses, cohorts, recording completions, the CSV import, cohort certificates."""

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
from curricula import importer
from curricula import services as curricula
from curricula.api import require_hub_officer_of
from curricula.models import Course
from curricula.schemas import CompletionIn
from registry.core.auth import Account, Role, require_role
from registry.core.db import db
from registry.core.errors import Invalid, NotFound, RegistryError
from registry.people.models import Organisation
from registry.web.base import blp, form_errors, load_form, render, today

COMPLETION_FIELDS = ("reference", "clinician", "course", "offering", "completed_on", "outcome", "score", "credits")
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
    offerings = [(o, curricula.enrolled_count(o.id)) for o in curricula.offerings_of(hub)]
    recent, total = curricula.hub_completions(hub, course=None, page=1, page_size=25)
    context: dict[str, Any] = {
        "hub": hub, "accredited": accredited, "offerings": offerings, "day": day,
        "recent": [(c, c.status_on(day)) for c in recent], "total": total,
        "course_options": [(item["course"].code, f"{item['course'].code} · {item['course'].title_in(hub.language)}")
                           for item in accredited],
        "offering_options": [(o.id, f"{o.id}: {o.course.code}, {o.starts_on.isoformat()}") for o, _ in offerings],
        "form": {}, "errors": {}, "general": [], "report": None, "import_general": [], "upload": None,
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
        try:
            course = curricula.get_course(data["course"])
        except NotFound as exc:
            raise Invalid("unknown course", errors={"course": [exc.detail]}) from exc
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
    return redirect(url_for("web.hub_home"))
