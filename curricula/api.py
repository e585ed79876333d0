"""HTTP API for courses, accreditations, offerings, enrolments, completions and the bulk import."""

from __future__ import annotations

from datetime import date
from typing import IO

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from curricula import importer, services
from curricula.models import Completion, Course, Offering
from curricula.schemas import (
    AccreditationIn,
    AccreditationOut,
    AccreditationPatch,
    ClinicianCompletionQuery,
    CompletionIn,
    CompletionOut,
    CompletionPage,
    CompletionWithdrawalIn,
    CourseIn,
    CourseOut,
    CoursePatch,
    CourseQuery,
    CpdOut,
    CpdQuery,
    EnrolmentIn,
    EnrolmentOut,
    HubCompletionQuery,
    ImportArgs,
    ImportReportOut,
    LangArgs,
    OfferingIn,
    OfferingOut,
)
from registry.core import audit
from registry.core.auth import Account, Role, current_account, require_role
from registry.core.db import db
from registry.core.errors import Forbidden, Invalid, NotFound
from registry.people import services as people
from registry.people.api import can_read_full_record
from registry.people.models import Organisation

blp = Blueprint("curricula", __name__, url_prefix="/api/v1",
                description="Courses, accreditations, offerings, completions and their bulk import")

# Room for the multipart envelope around an uploaded file.
_MULTIPART_OVERHEAD = 64 * 1024


def require_hub_officer_of(hub: Organisation) -> Account:
    """Only an officer of this hub acts for it."""
    account = require_role(Role.HUB_OFFICER)
    if account.organisation_id != hub.id:
        raise Forbidden(f"only officers of {hub.code} may act for it")
    return account


def require_course_manager(course: Course) -> Account:
    """The secretariat, or an officer of a hub that owns the course."""
    account = require_role(Role.SECRETARIAT_ADMIN, Role.HUB_OFFICER)
    if account.role is Role.HUB_OFFICER and account.organisation_id not in course.owning_hub_ids:
        raise Forbidden(f"only the secretariat or an owning hub may change course {course.code}")
    return account


def _keeps_co_owners(course: Course, owners: list[dict[str, str | None]], account: Account) -> None:
    """A hub may add co-owners and step down itself, but only the secretariat removes another owner of a joint
    course (a hub or a member state): one owner cannot take a shared course over."""
    wanted = {("hub", o["hub"]) if o.get("hub") else ("state", o["member_state"]) for o in owners}
    own = account.organisation.code
    dropped = sorted(
        f"{kind} {name}" for kind, name in (
            ("hub", o.organisation.code) if o.organisation is not None else ("state", o.member_state_code)
            for o in course.owners)
        if (kind, name) not in wanted and (kind, name) != ("hub", own))
    if dropped:
        raise Forbidden(f"only the secretariat may remove another owner of course {course.code}: "
                        + ", ".join(dropped), errors={"owners": [f"keeps {', '.join(dropped)}"]})


def require_accreditor(state_code: str) -> Account:
    """The secretariat, or a board officer of the member state that grants the accreditation."""
    account = require_role(Role.SECRETARIAT_ADMIN, Role.BOARD_OFFICER)
    if account.role is Role.BOARD_OFFICER and account.organisation.member_state_code != state_code:
        raise Forbidden(f"only the secretariat or a board of {state_code} may record this accreditation")
    return account


def can_read_completion(account: Account, completion: Completion) -> bool:
    """The recording hub, boards, the secretariat and the clinician themself."""
    if account.role is Role.HUB_OFFICER:
        return account.organisation_id == completion.hub_id
    return can_read_full_record(account, completion.clinician)


def dump_course(course: Course, lang: str | None) -> Course:
    course.requested_language = lang  # type: ignore[attr-defined]
    return course


def dump_completion(completion: Completion, day: date, lang: str | None = None) -> Completion:
    """Attach the status on `day` so CompletionOut can dump it."""
    completion.status = completion.status_on(day)  # type: ignore[attr-defined]
    completion.requested_language = lang  # type: ignore[attr-defined]
    return completion


def dump_offering(offering: Offering) -> Offering:
    offering.enrolled = services.enrolled_count(offering.id)  # type: ignore[attr-defined]
    return offering


def _hub(code: str) -> Organisation:
    return services.get_hub(code)


def _course_for_input(code: str, field: str = "course") -> Course:
    try:
        return services.get_course(code)
    except NotFound as exc:
        raise Invalid("unknown course", errors={field: [exc.detail]}) from exc


# --- courses ---------------------------------------------------------------------------------------------------


@blp.route("/courses")
class Courses(MethodView):
    @blp.arguments(CourseQuery(), location="query")
    @blp.response(200, CourseOut(many=True))
    def get(self, args):
        """The curriculum (public); titles in ?lang= where the course has one."""
        return [dump_course(c, args.get("lang")) for c in services.courses(args.get("profession"))]

    @blp.arguments(CourseIn())
    @blp.response(201, CourseOut)
    def post(self, data):
        """Add a course (secretariat, or a hub naming itself among the owners)."""
        account = require_role(Role.SECRETARIAT_ADMIN, Role.HUB_OFFICER)
        if account.role is Role.HUB_OFFICER and account.organisation.code not in {
            o["hub"] for o in data["owners"] if o.get("hub")
        }:
            raise Forbidden(f"a hub may only add courses it owns: name {account.organisation.code} among the owners")
        course = services.create_course(actor=account, **data)
        db.session.commit()
        return dump_course(course, None)


@blp.route("/courses/<code>")
class CourseItem(MethodView):
    @blp.arguments(LangArgs(), location="query")
    @blp.response(200, CourseOut)
    def get(self, args, code):
        return dump_course(services.get_course(code), args.get("lang"))

    @blp.arguments(CoursePatch())
    @blp.response(200, CourseOut)
    def patch(self, data, code):
        """Change a course (secretariat, or an owning hub)."""
        current_account()  # before the lookup: anonymous callers get 401 whether or not the course exists
        course = services.get_course(code)
        account = require_course_manager(course)
        if account.role is Role.HUB_OFFICER and "owners" in data:
            _keeps_co_owners(course, data["owners"], account)
        services.update_course(course, actor=account, **data)
        db.session.commit()
        return dump_course(course, None)


# --- accreditations --------------------------------------------------------------------------------------------


@blp.route("/courses/<code>/accreditations")
class Accreditations(MethodView):
    @blp.response(200, AccreditationOut(many=True))
    def get(self, code):
        """Which hubs may deliver the course, granted by which state, when (public)."""
        return services.accreditations(services.get_course(code))

    @blp.arguments(AccreditationIn())
    @blp.response(201, AccreditationOut)
    def post(self, data, code):
        """Accredit a hub for the course (secretariat, or a board of the granting state)."""
        current_account()  # before the lookup: anonymous callers get 401 whether or not the course exists
        course = services.get_course(code)
        account = require_accreditor(data["granted_by"])
        try:
            hub = people.get_organisation(data["hub"])
        except NotFound as exc:
            raise Invalid("unknown hub", errors={"hub": [exc.detail]}) from exc
        accreditation = services.grant_accreditation(
            course, hub=hub, granted_by=data["granted_by"], valid_from=data["valid_from"],
            valid_until=data["valid_until"], actor=account,
        )
        db.session.commit()
        return accreditation


@blp.route("/accreditations/<id:accreditation_id>")
class AccreditationItem(MethodView):
    @blp.response(200, AccreditationOut)
    def get(self, accreditation_id):
        return services.get_accreditation(accreditation_id)

    @blp.arguments(AccreditationPatch())
    @blp.response(200, AccreditationOut)
    def patch(self, data, accreditation_id):
        """End, extend or open an accreditation (secretariat, or a board of the granting state)."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        accreditation = services.get_accreditation(accreditation_id)
        account = require_accreditor(accreditation.granted_by_state_code)
        services.change_accreditation_end(accreditation, valid_until=data["valid_until"], actor=account)
        db.session.commit()
        return accreditation


# --- offerings and enrolments ----------------------------------------------------------------------------------


@blp.route("/hubs/<hub_code>/offerings")
class HubOfferings(MethodView):
    @blp.response(200, OfferingOut(many=True))
    def get(self, hub_code):
        """A hub's cohorts (public)."""
        return [dump_offering(o) for o in services.offerings_of(_hub(hub_code))]

    @blp.arguments(OfferingIn())
    @blp.response(201, OfferingOut)
    def post(self, data, hub_code):
        """Schedule a cohort of a course the hub is accredited for (the hub's officers)."""
        current_account()  # before the lookup: anonymous callers get 401 whether or not the hub exists
        hub = _hub(hub_code)
        account = require_hub_officer_of(hub)
        course = _course_for_input(data.pop("course"))
        offering = services.create_offering(hub, course=course, actor=account, **data)
        db.session.commit()
        return dump_offering(offering)


@blp.route("/offerings/<id:offering_id>")
class OfferingItem(MethodView):
    @blp.response(200, OfferingOut)
    def get(self, offering_id):
        return dump_offering(services.get_offering(offering_id))


@blp.route("/offerings/<id:offering_id>/enrolments")
class Enrolments(MethodView):
    @blp.response(200, EnrolmentOut(many=True))
    def get(self, offering_id):
        """Who is enrolled (the hub's officers, the secretariat)."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        offering = services.get_offering(offering_id)
        account = require_role(Role.HUB_OFFICER, Role.SECRETARIAT_ADMIN)
        if account.role is Role.HUB_OFFICER:
            require_hub_officer_of(offering.hub)
        return services.enrolments_of(offering)

    @blp.arguments(EnrolmentIn())
    @blp.response(201, EnrolmentOut)
    def post(self, data, offering_id):
        """Enrol a clinician while seats remain (the hub's officers)."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        offering = services.get_offering(offering_id)
        account = require_hub_officer_of(offering.hub)
        clinician = services.find_clinician(data["clinician"], None, None)
        enrolment = services.enrol(offering, clinician, actor=account, today=date.today())
        db.session.commit()
        return enrolment


# --- completions -----------------------------------------------------------------------------------------------


@blp.route("/hubs/<hub_code>/completions")
class HubCompletions(MethodView):
    @blp.arguments(HubCompletionQuery(), location="query")
    @blp.response(200, CompletionPage)
    def get(self, args, hub_code):
        """The hub's completions, newest first (the hub's officers, the secretariat)."""
        current_account()  # before the lookup: anonymous callers get 401 whether or not the hub exists
        hub = _hub(hub_code)
        account = require_role(Role.HUB_OFFICER, Role.SECRETARIAT_ADMIN)
        if account.role is Role.HUB_OFFICER:
            require_hub_officer_of(hub)
        course = _course_for_input(args["course"]) if args.get("course") else None
        items, total = services.hub_completions(hub, course=course, page=args["page"], page_size=args["page_size"])
        day = args.get("on") or date.today()
        return {"items": [dump_completion(c, day) for c in items], "page": args["page"],
                "page_size": args["page_size"], "total": total}

    @blp.arguments(CompletionIn())
    @blp.response(201, CompletionOut)
    @blp.alt_response(200, schema=CompletionOut, description="the same completion was already recorded")
    def post(self, data, hub_code):
        """Record a completion (the hub's officers). Re-sending the same reference and data answers 200."""
        current_account()  # before the lookup: anonymous callers get 401 whether or not the hub exists
        hub = _hub(hub_code)
        account = require_hub_officer_of(hub)
        clinician = services.find_clinician(data["clinician"], data["licence_number"], data["board"])
        course = _course_for_input(data["course"])
        offering = None
        if data["offering"] is not None:
            try:
                offering = services.get_offering(data["offering"])
            except NotFound as exc:
                raise Invalid("unknown offering", errors={"offering": [exc.detail]}) from exc
        today = date.today()
        completion, created = services.record_completion(
            hub, clinician=clinician, course=course, offering=offering, completed_on=data["completed_on"],
            outcome=data["outcome"], score=data["score"], credits=data["credits"], reference=data["reference"],
            actor=account, today=today,
        )
        db.session.commit()
        return dump_completion(completion, today), 201 if created else 200


@blp.route("/completions/<id:completion_id>")
class CompletionItem(MethodView):
    @blp.arguments(LangArgs(), location="query")
    @blp.response(200, CompletionOut)
    def get(self, args, completion_id):
        """A completion with its status today (its hub, boards, the secretariat, the clinician)."""
        account = current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        completion = services.get_completion(completion_id)
        if not can_read_completion(account, completion):
            raise Forbidden("you may not read this completion")
        return dump_completion(completion, date.today(), args.get("lang"))


@blp.route("/completions/<id:completion_id>/withdrawal")
class CompletionWithdrawal(MethodView):
    @blp.arguments(CompletionWithdrawalIn())
    @blp.response(200, CompletionOut)
    def post(self, data, completion_id):
        """Withdraw a completion, giving the reason; the record stays (the recording hub's officers)."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        completion = services.get_completion(completion_id)
        account = require_hub_officer_of(completion.hub)
        services.withdraw_completion(completion, reason=data["reason"], actor=account)
        db.session.commit()
        return dump_completion(completion, date.today())


def _upload(args: dict) -> tuple[IO[bytes], str]:
    """The uploaded file and its format: a multipart part named `file`, or the raw body."""
    fmt = args.get("format")
    if request.mimetype == "multipart/form-data":
        if list(request.form) or set(request.files) - {"file"} or len(request.files.getlist("file")) != 1:
            raise Invalid("send exactly one file, in a form field named 'file'",
                          errors={"file": ["send exactly one file named 'file'"]})
        upload = request.files["file"]
        name = (upload.filename or "").lower()
        if fmt is None:
            if name.endswith(".json") or upload.mimetype == "application/json":
                fmt = "json"
            elif name.endswith((".csv", ".txt")) or upload.mimetype in ("text/csv", "application/csv", "text/plain"):
                fmt = "csv"
        stream: IO[bytes] = upload.stream
    else:
        if fmt is None:
            fmt = "json" if request.mimetype == "application/json" else "csv"
        stream = request.stream
    if fmt is None:
        raise Invalid("cannot tell whether the file is CSV or JSON; add ?format=csv or ?format=json",
                      errors={"format": ["is required for this file"]})
    return stream, fmt


@blp.route("/hubs/<hub_code>/completions/import")
class CompletionImport(MethodView):
    # The file comes as itself or in a form; the app's JSON-only rule does not apply here.
    accepts_media = {"text/csv", "application/csv", "text/plain", "application/json", "multipart/form-data"}

    @blp.arguments(ImportArgs(), location="query")
    @blp.response(200, ImportReportOut)
    @blp.alt_response(201, schema=ImportReportOut, description="completions were created")
    def post(self, args, hub_code):
        """Import completions from a CSV or JSON file (the hub's officers); ?dry_run=true checks without writing.

        A commit is all or nothing; sending the same file again creates nothing new. Limits: see
        curricula.importer (CURRICULA_MAX_IMPORT_BYTES, default 20 MiB -> 413; CURRICULA_MAX_IMPORT_ROWS,
        default 100,000 -> 422).
        """
        current_account()  # before the lookup: anonymous callers get 401 whether or not the hub exists
        hub = _hub(hub_code)
        account = require_hub_officer_of(hub)
        max_bytes, _ = importer.import_limits()
        # The upload has its own body limit, larger than the app's 1 MiB for JSON requests.
        request.max_content_length = max_bytes + _MULTIPART_OVERHEAD
        if request.content_length is not None and request.content_length > max_bytes + _MULTIPART_OVERHEAD:
            raise importer.too_large(max_bytes)
        try:
            stream, fmt = _upload(args)
            report = importer.import_completions(
                hub, stream, fmt, dry_run=args["dry_run"], actor=account, today=date.today(), max_bytes=max_bytes,
            )
        except RequestEntityTooLarge as exc:
            raise importer.too_large(max_bytes) from exc
        if not report.dry_run:
            db.session.commit()
        return report.as_dict(), 201 if report.created else 200


# --- the clinician's side --------------------------------------------------------------------------------------


def _readable_clinician(registry_number: str):
    account = current_account()
    clinician = people.get_clinician(registry_number)
    if not can_read_full_record(account, clinician):
        raise Forbidden("you may not read this clinician's completions")
    return clinician


@blp.route("/clinicians/<registry_number>/completions")
class ClinicianCompletions(MethodView):
    @blp.arguments(ClinicianCompletionQuery(), location="query")
    @blp.response(200, CompletionOut(many=True))
    def get(self, args, registry_number):
        """A clinician's completions up to a date (default today), each current, expired, failed or withdrawn."""
        clinician = _readable_clinician(registry_number)
        audit.log_access(clinician.id, "completions")
        day = args.get("on") or date.today()
        items = [dump_completion(c, day, args.get("lang")) for c in services.completions_of(clinician, day)]
        if args.get("status"):
            items = [c for c in items if c.status is args["status"]]
        return items


@blp.route("/clinicians/<registry_number>/cpd")
class ClinicianCpd(MethodView):
    @blp.arguments(CpdQuery(), location="query")
    @blp.response(200, CpdOut)
    def get(self, args, registry_number):
        """CPD credits earned over a period (default: the last 12 months), with the completions behind them."""
        clinician = _readable_clinician(registry_number)
        end = args.get("end") or date.today()
        start = args.get("start") or services.add_months(end, -12)
        if end < start:
            raise Invalid("the period ends before it starts", errors={"to": ["is before from"]})
        audit.log_access(clinician.id, "cpd")
        total, items = services.cpd_credits(clinician, start, end)
        return {"clinician": clinician.registry_number, "start": start, "end": end, "credits": total,
                "completions": [dump_completion(c, end) for c in items]}



