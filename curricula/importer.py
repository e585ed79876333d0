"""Bulk import of completions from a CSV or JSON file (DOMAIN.md "Bulk import of completions").

The API, the CLI (`registry completions import`) and the benchmark all call `import_completions`.

The file
    CSV: UTF-8 with or without a byte-order mark; comma, semicolon or tab separated (read from the header
    line); fields may be quoted; the first line names the columns. JSON: an array of objects with the same
    names as keys. Columns: reference, course, completed_on (YYYY-MM-DD), outcome (passed | failed), the
    clinician as registry_number or as licence_number + board, and optionally score (0-100), credits
    (default: the course's CPD hours when passed, 0 when failed) and offering (an offering id).
    Rows are numbered as a spreadsheet shows them (the header is row 1); JSON items from 1.

Limits (configuration key, environment variable in brackets)
    CURRICULA_MAX_IMPORT_BYTES [REGISTRY_CURRICULA_MAX_IMPORT_BYTES], default 20 MiB: a larger file is
        refused with 413 before anything is written.
    CURRICULA_MAX_IMPORT_ROWS [REGISTRY_CURRICULA_MAX_IMPORT_ROWS], default 100,000 rows: more rows are
        refused with 422.
    At most MAX_REPORTED_ERRORS row errors are listed; `error_count` always gives the total.

What it does
    A dry run reports every row error by row and field and counts what would be created and what is
    already recorded. A commit is all or nothing: rows are checked first, and only when no row has an
    error are the new ones inserted (Core executemany, in batches); a file sent again creates nothing new.
    The file is read as a stream (csv over a text wrapper, JSON item by item); clinicians, courses,
    offerings and already-recorded references are resolved in batched IN queries of BATCH rows.
    A commit that writes is one audit event (hub, counts, SHA-256 of the file), not one per row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app, has_app_context

from curricula.models import Completion, Course, Offering
from curricula.services import (
    COMPARED,
    Window,
    _lock,
    accreditation_windows,
    completion_problems,
    differences,
    valid_until,
)
from registry.core import audit
from registry.core.auth import Account
from registry.core.db import db, utcnow
from registry.core.errors import Invalid, TooLarge
from registry.licensing.models import Licence
from registry.people import numbers
from registry.people.models import Clinician, ClinicianMerge, Organisation

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000
MAX_REPORTED_ERRORS = 1000
BATCH = 500  # rows per IN query
INSERT_BATCH = 2000  # rows per executemany
READ_SIZE = 64 * 1024
FORMATS = ("csv", "json")

COLUMNS = ("reference", "registry_number", "licence_number", "board", "course", "completed_on", "outcome",
           "score", "credits", "offering")
REQUIRED = ("reference", "course", "completed_on", "outcome")
EXAMPLE_HEADER = "reference,registry_number,course,completed_on,outcome,score,credits"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# \Z, not $: re.match with "$" also matches before a final "\n".
_COURSE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}\Z")
_ORG_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}\Z")
_CANONICAL_NUMBER = re.compile(r"^[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}\Z")
_LICENCE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/.-]{0,39}\Z")
_EARLIEST = date(1900, 1, 1)
_MAX_ID = 2**31 - 1
# A number cell longer than this is refused before int() or float() reads it (no id, score or credits needs more).
_MAX_NUMBER_LENGTH = 40


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    """What an import found and did. `new` counts rows created (commit) or that would be (dry run)."""

    hub: str
    format: str
    dry_run: bool
    file_sha256: str = ""
    bytes: int = 0
    rows: int = 0
    new: int = 0
    existing: int = 0
    created: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def committed(self) -> bool:
        return not self.dry_run and self.error_count == 0

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    @property
    def summary(self) -> str:
        if self.error_count:
            head = f"{self.error_count} error{'s' if self.error_count != 1 else ''} in {self.rows} rows"
            return head + ("; nothing would be written until they are fixed" if self.dry_run
                           else "; nothing was written")
        if self.dry_run:
            return f"dry run: {self.new} would be created, {self.existing} already recorded, no errors"
        if self.created == 0:
            return f"nothing new: all {self.existing} completions in the file were already recorded"
        return f"{self.created} created, {self.existing} already recorded"

    def add_error(self, row: int, field_name: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, field_name, message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "hub": self.hub, "format": self.format, "dry_run": self.dry_run, "committed": self.committed,
            "file_sha256": self.file_sha256, "bytes": self.bytes, "rows": self.rows, "new": self.new,
            "existing": self.existing, "created": self.created, "error_count": self.error_count,
            "errors_truncated": self.errors_truncated, "summary": self.summary,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
        }


def import_limits() -> tuple[int, int]:
    """(max bytes, max rows) from the configuration, or the documented defaults outside an app."""
    if not has_app_context():
        return DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS
    config = current_app.config
    return (int(config.get("CURRICULA_MAX_IMPORT_BYTES", DEFAULT_MAX_BYTES)),
            int(config.get("CURRICULA_MAX_IMPORT_ROWS", DEFAULT_MAX_ROWS)))


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"the file is larger than the import limit of {_size(limit)} ({limit} bytes); "
                    "split it into smaller files", limit_bytes=limit)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _file_error(detail: str) -> Invalid:
    return Invalid(detail, errors={"file": [detail]})


class _Source(io.RawIOBase):
    """The upload as a raw stream that hashes and counts what it reads and refuses more than the limit."""

    def __init__(self, raw: IO[bytes], limit: int, progress: Callable[[int], Any] | None):
        super().__init__()
        self._raw = raw
        self._limit = limit
        self._progress = progress
        self.sha256 = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        self.count += n
        if self.count > self._limit:
            raise too_large(self._limit)
        self.sha256.update(data)
        buffer[:n] = data
        if self._progress is not None:
            self._progress(n)
        return n


class _Row:
    __slots__ = ("row", "reference", "registry_number", "licence_number", "board", "course", "completed_on",
                 "outcome", "score", "credits", "offering_id", "ok")

    def __init__(self, row: int):
        self.row = row
        self.ok = True


# --- reading ---------------------------------------------------------------------------------------------------


def _column_name(text: str) -> str:
    return text.strip().strip('"').strip().lower().replace(" ", "_").replace("-", "_")


def _sniff_delimiter(line: str) -> str:
    """The separator is whichever of comma, semicolon or tab the header line uses most (outside quotes)."""
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_header(names: list[str]) -> None:
    known = set(COLUMNS)
    if not any(name in known for name in names):
        raise _file_error(
            "the first row is not a header: it must name the columns, e.g. " + EXAMPLE_HEADER
        )
    unknown = [n or "(empty)" for n in names if n not in known]
    duplicated = sorted({n for n in names if names.count(n) > 1 and n in known})
    missing = [c for c in REQUIRED if c not in names]
    if "registry_number" not in names and not ("licence_number" in names and "board" in names):
        missing.append("registry_number (or licence_number and board)")
    problems = []
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated column{'s' if len(duplicated) > 1 else ''}: {', '.join(duplicated)}")
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    if problems:
        detail = "; ".join(problems) + f". The known columns are: {', '.join(COLUMNS)}"
        raise Invalid(detail, errors={"header": problems})


def _csv_records(text: io.TextIOWrapper,
                 where: list[int]) -> tuple[dict[str, int], Iterator[tuple[int, list[str] | None]]]:
    """(column index by name, iterator of (row number, cells)); blank lines are skipped but keep their number."""
    header_line = text.readline()
    if not header_line.strip():
        raise _file_error("the file is empty: it needs a header row and at least one completion")
    delimiter = _sniff_delimiter(header_line)
    try:  # a field over csv.field_size_limit(), for one, raises csv.Error here as in the rows below
        header = next(csv.reader([header_line], delimiter=delimiter), [])
    except csv.Error as exc:
        raise _file_error(f"the header row (row 1) cannot be read as CSV: {exc}") from None
    names = [_column_name(h) for h in header]
    _check_header(names)
    index = {name: i for i, name in enumerate(names)}

    def records() -> Iterator[tuple[int, list[str] | None]]:
        row = 1
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _file_error(f"row {row + 1} cannot be read as CSV: {exc}") from None
            row += 1
            where[0] = row
            if not cells or not any(c.strip() for c in cells):
                continue
            yield row, cells

    return index, records()


_WS = re.compile(r"[ \t\n\r]*")


def _json_items(text: io.TextIOWrapper, where: list[int]) -> Iterator[tuple[int, Any]]:
    """Items of a top-level JSON array, decoded one at a time from a sliding buffer."""
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False

    def more(size: int = READ_SIZE) -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = text.read(size)
        if not chunk:
            eof = True
            return False
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def peek() -> str:
        nonlocal pos
        while True:
            pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
            if pos < len(buf):
                return buf[pos]
            if not more():
                return ""

    if peek() != "[":
        raise _file_error("a JSON import must be an array of completions: [{\"reference\": ...}, ...]")
    pos += 1
    index = 0
    if peek() == "]":
        pos += 1
    else:
        while True:
            index += 1
            where[0] = index
            peek()
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                except RecursionError:
                    raise _file_error(f"the JSON is nested too deeply in item {index}") from None
                except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
                    # Most likely the item continues in the part not read yet; read more (growing) and retry.
                    if more(max(READ_SIZE, len(buf) - pos)):
                        continue
                    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "a number is too long"
                    raise _file_error(f"the JSON is not valid in item {index}: {reason}") from None
                if end == len(buf) and not isinstance(value, (dict, list, str)) and more():
                    continue  # a number at the end of the buffer may be cut short
                break
            pos = end
            yield index, value
            ch = peek()
            if ch == ",":
                pos += 1
                continue
            if ch == "]":
                pos += 1
                break
            raise _file_error(f"the JSON is not valid after item {index}: expected ',' or ']'")
    if peek() != "":
        raise _file_error("the JSON has data after the closing ']'")


_JSON_INDEX = {name: i for i, name in enumerate(COLUMNS)}


def _printable(text: str) -> str:
    """The text with lone surrogates (a JSON "\\ud800" escape) and control characters replaced."""
    return _CONTROL.sub("?", text.encode("utf-8", "replace").decode("utf-8"))


def _json_cells(report: ImportReport, row: int, item: Any) -> list[str] | None:
    """An item as cells in COLUMNS order, or None after reporting why it cannot be one."""
    if not isinstance(item, dict):
        report.add_error(row, "item", "must be an object")
        return None
    cells = [""] * len(COLUMNS)
    ok = True
    for key, value in item.items():
        i = _JSON_INDEX.get(key)
        if i is None:
            report.add_error(row, _printable(key)[:60], "unknown field")
            ok = False
        elif value is None:
            continue
        elif isinstance(value, str):
            if _printable(value) != value:
                report.add_error(row, key, "must be UTF-8 text without control characters")
                ok = False
            cells[i] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            cells[i] = repr(value)
        else:
            report.add_error(row, key, "must be a string or a number")
            ok = False
    return cells if ok else None


# --- one row ---------------------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    # ASCII and bounded: float() would also read other scripts' digits ("٥٠") and "1_0", and a long cell is
    # no number a score or credits can be.
    if len(text) > _MAX_NUMBER_LENGTH or not text.isascii() or "_" in text:
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as semicolon-separated files from Excel write them
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_MISSING = object()


def _whole_number(text: str, maximum: int) -> int | None:
    """A whole number from 0 to `maximum` written in ASCII digits, else None.

    str.isdigit() alone is not enough: it is true for "²" and other digits int() refuses, and int() also refuses
    a string of more than sys.get_int_max_str_digits() digits (4300); both raised ValueError (a 500).
    """
    if len(text) > _MAX_NUMBER_LENGTH or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= maximum else None


def _day(text: str) -> date | None:
    """A strict YYYY-MM-DD date (fromisoformat alone would also take 20250101 and week dates)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class _Parser:
    """Reads rows' cells into _Rows, reporting every field that cannot be read. Column positions are found
    once; registry numbers and dates, which repeat through a file, are read once each."""

    def __init__(self, report: ImportReport, index: dict[str, int]):
        self.report = report
        self.width = len(index)
        self.positions = tuple(index.get(name, -1) for name in COLUMNS)
        self.registry_numbers: dict[str, str | None] = {}
        self.days: dict[str, date | None] = {}

    def _error(self, parsed: _Row, field_name: str, message: str) -> None:
        parsed.ok = False
        self.report.add_error(parsed.row, field_name, message)

    def parse(self, row: int, cells: list[str]) -> _Row:
        n = len(cells)
        (i_ref, i_rn, i_licence, i_board, i_course, i_day, i_outcome, i_score, i_credits,
         i_offering) = self.positions
        parsed = _Row(row)
        error = self._error
        if n > self.width:
            error(parsed, "row", f"has more fields than the header names ({self.width})")

        # Only valid values are kept: they are looked up in the database (PostgreSQL refuses NUL even there).
        reference = cells[i_ref].strip() if 0 <= i_ref < n else ""
        parsed.reference = None
        if not reference:
            error(parsed, "reference", "is required")
        elif len(reference) > 64:
            error(parsed, "reference", "is longer than 64 characters")
        elif _CONTROL.search(reference):
            error(parsed, "reference", "must not contain control characters")
        else:
            parsed.reference = reference

        registry_number = cells[i_rn].strip() if 0 <= i_rn < n else ""
        licence_number = cells[i_licence].strip() if 0 <= i_licence < n else ""
        board = cells[i_board].strip().upper() if 0 <= i_board < n else ""
        parsed.registry_number = parsed.licence_number = parsed.board = None
        if registry_number:
            canonical = self.registry_numbers.get(registry_number, _MISSING)
            if canonical is _MISSING:
                if _CANONICAL_NUMBER.match(registry_number):
                    # Already in canonical form: the register itself says whether it exists, and its check
                    # character is only computed when it does not (_Batcher.process), not for every row.
                    canonical = registry_number
                else:
                    canonical = numbers.normalise(registry_number) if len(registry_number) <= 20 else None
                self.registry_numbers[registry_number] = canonical
            if canonical is None:
                error(parsed, "registry_number",
                      f"{registry_number[:20]!r} is not a registry number (wrong shape or check character)")
            parsed.registry_number = canonical
        if licence_number or board:
            valid = True
            if not licence_number:
                error(parsed, "licence_number", "is required with board")
                valid = False
            elif not _LICENCE_NUMBER.match(licence_number):
                error(parsed, "licence_number", "letters, digits, '/', '.' and '-' only, at most 40")
                valid = False
            if not board:
                error(parsed, "board", "is required with licence_number")
                valid = False
            elif not _ORG_CODE.match(board):
                error(parsed, "board", "is not an organisation code")
                valid = False
            if valid:
                parsed.licence_number, parsed.board = licence_number, board
        elif not registry_number:
            error(parsed, "registry_number", "give the registry number, or licence_number and board")

        course = cells[i_course].strip().upper() if 0 <= i_course < n else ""
        parsed.course = None
        if not course:
            error(parsed, "course", "is required")
        elif not _COURSE_CODE.match(course):
            error(parsed, "course", f"{course[:40]!r} is not a course code")
        else:
            parsed.course = course

        text = cells[i_day].strip() if 0 <= i_day < n else ""
        day = self.days.get(text, _MISSING)
        if day is _MISSING:
            day = self.days[text] = _day(text)
        parsed.completed_on = None
        if day is None:
            error(parsed, "completed_on", f"{text[:20]!r} is not a valid date (YYYY-MM-DD)" if text else "is required")
        elif day < _EARLIEST:
            error(parsed, "completed_on", "is before 1900")
        else:
            parsed.completed_on = day

        outcome = cells[i_outcome].strip().lower() if 0 <= i_outcome < n else ""
        if outcome != "passed" and outcome != "failed":
            error(parsed, "outcome", "must be passed or failed" if outcome else "is required")
        parsed.outcome = outcome

        parsed.score = None
        text = cells[i_score].strip() if 0 <= i_score < n else ""
        if text:
            score = _number(text)
            if score is None or not 0 <= score <= 100:
                error(parsed, "score", "must be a number from 0 to 100")
            parsed.score = score

        parsed.credits = None
        text = cells[i_credits].strip() if 0 <= i_credits < n else ""
        if text:
            credits = _number(text)
            if credits is None or not 0 <= credits <= 1000:
                error(parsed, "credits", "must be a number from 0 to 1000")
            elif round(credits, 2) != credits:
                error(parsed, "credits", "has more than two decimals")
            parsed.credits = credits

        parsed.offering_id = None
        text = cells[i_offering].strip() if 0 <= i_offering < n else ""
        if text:
            offering_id = _whole_number(text, _MAX_ID)
            if not offering_id:  # None, or 0
                error(parsed, "offering", "must be an offering id (a positive whole number)")
            else:
                parsed.offering_id = offering_id
        return parsed


# --- batches ---------------------------------------------------------------------------------------------------


class _Batcher:
    """Resolves a batch of rows against the register with one IN query per kind, caching across batches."""

    def __init__(self, hub: Organisation, report: ImportReport, today: date, *, keep: bool,
                 actor: Account | None):
        self.hub_id = hub.id
        self.hub_code = hub.code
        self.report = report
        self.today = today
        self.keep = keep  # collect the new rows for insertion (not in a dry run)
        self.windows = accreditation_windows(hub.id)
        self.courses: dict[str, tuple[int, float, int | None] | None] = {}
        self.clinicians: dict[str, int | None] = {}
        self.licences: dict[tuple[str, str], int | None] = {}
        self.seen: dict[str, int] = {}
        self.pending: list[tuple] = []
        self._valid_until: dict[tuple[date, str, int | None], Any] = {}
        # Values go to the database already converted by each column's own bind processor, once per distinct
        # value, through a column-only table: SQLAlchemy then does not convert every row again.
        table = Completion.__table__
        dialect = db.session.get_bind().dialect
        self._convert = {name: _converter(table.c[name], dialect) for name in _INSERTED}
        self._constant = (hub.id, self._convert["recorded_at"](utcnow()), actor.id if actor else None)

    def _resolve(self, rows: list[_Row]) -> tuple[dict[int, tuple[int, int, int, date]], dict[str, Any]]:
        # Column-only selects through the session's connection: the ORM layer added nothing here but time.
        session = db.session.connection()
        wanted = {r.registry_number for r in rows if r.registry_number and r.registry_number not in self.clinicians}
        if wanted:
            self.clinicians.update(dict.fromkeys(wanted))
            # A merged record's number leads to the record it was merged into.
            found = _rows_in(session, "SELECT c.registry_number, COALESCE(m.survivor_id, c.id) "  # noqa: S608
                                      f"FROM {Clinician.__tablename__} c LEFT JOIN {ClinicianMerge.__tablename__} m "
                                      "ON m.merged_id = c.id WHERE c.registry_number IN ({})", list(wanted))
            if found is None:  # pragma: no cover - SQLite (qmark) and psycopg (pyformat) are covered
                found = session.execute(
                    sa.select(Clinician.registry_number, sa.func.coalesce(ClinicianMerge.survivor_id, Clinician.id))
                    .outerjoin(ClinicianMerge, ClinicianMerge.merged_id == Clinician.id)
                    .where(Clinician.registry_number.in_(wanted)))
            for registry_number, clinician_id in found:
                self.clinicians[registry_number] = clinician_id
        wanted_licences = {(r.board, r.licence_number) for r in rows
                           if r.licence_number and (r.board, r.licence_number) not in self.licences}
        if wanted_licences:
            self.licences.update(dict.fromkeys(wanted_licences))
            found = session.execute(
                sa.select(Organisation.code, Licence.number, Licence.clinician_id)
                .join(Organisation, Organisation.id == Licence.board_id)
                .where(Licence.number.in_({number for _, number in wanted_licences}))
            )
            self.licences.update({(code, number): cid for code, number, cid in found
                                  if (code, number) in wanted_licences})
        wanted_courses = {r.course for r in rows if r.course and r.course not in self.courses}
        if wanted_courses:
            self.courses.update(dict.fromkeys(wanted_courses))
            for code, course_id, cpd, validity in session.execute(
                sa.select(Course.code, Course.id, Course.cpd_hours, Course.validity_months)
                .where(Course.code.in_(wanted_courses))
            ):
                self.courses[code] = (course_id, cpd, validity)
        offering_ids = {r.offering_id for r in rows if r.offering_id}
        offerings: dict[int, tuple[int, int, int, date]] = {}
        if offering_ids:
            for row in session.execute(
                sa.select(Offering.id, Offering.hub_id, Offering.course_id, Offering.starts_on)
                .where(Offering.id.in_(offering_ids))
            ):
                offerings[row[0]] = row
        references = [r.reference for r in rows if r.reference]
        existing: dict[str, Any] = {}
        if references:
            # Most references of an import are new: only those already recorded are read in full (typed values).
            recorded = _rows_in(session, f"SELECT reference FROM {Completion.__tablename__} "  # noqa: S608
                                         "WHERE hub_id = {} AND reference IN ({})", references, self.hub_id)
            if recorded is not None:
                references = [reference for (reference,) in recorded]
        if references:
            columns = [getattr(Completion, name) for name in COMPARED]
            for row in session.execute(
                sa.select(Completion.reference, *columns)
                .where(Completion.hub_id == self.hub_id, Completion.reference.in_(references))
            ):
                existing[row.reference] = row
        return offerings, existing

    def process(self, rows: list[_Row]) -> None:
        """Check a batch: identities, rules, duplicates in the file, references recorded before."""
        offerings, existing = self._resolve(rows)
        report = self.report
        add = report.add_error
        seen, clinicians, licences, courses = self.seen, self.clinicians, self.licences, self.courses
        today, hub_id, hub_code = self.today, self.hub_id, self.hub_code
        for r in rows:
            ok = r.ok
            row = r.row
            reference = r.reference
            if reference is not None:
                first = seen.get(reference)
                if first is not None:
                    add(row, "reference", f"{reference} is also used in row {first} (duplicate within the file)")
                    ok = False
                else:
                    seen[reference] = row
            clinician_id = None
            if r.registry_number is not None:
                clinician_id = clinicians.get(r.registry_number)
                if clinician_id is None:
                    if numbers.normalise(r.registry_number) is None:  # canonical in shape, wrong check character
                        add(row, "registry_number",
                            f"{r.registry_number!r} is not a registry number (wrong shape or check character)")
                    else:
                        add(row, "registry_number", f"no clinician {r.registry_number}")
                    ok = False
            if r.licence_number is not None:
                by_licence = licences.get((r.board, r.licence_number))
                if by_licence is None:
                    add(row, "licence_number", f"no licence {r.licence_number} at {r.board}")
                    ok = False
                elif clinician_id is not None and by_licence != clinician_id:
                    add(row, "licence_number", f"licence {r.licence_number} at {r.board} is another clinician's")
                    ok = False
                else:
                    clinician_id = by_licence
            course = None
            if r.course is not None:
                course = courses.get(r.course)
                if course is None:
                    add(row, "course", f"no course {r.course}")
                    ok = False
            offering = None
            if r.offering_id is not None:
                offering = offerings.get(r.offering_id)
                if offering is None:
                    add(row, "offering", f"no offering {r.offering_id}")
                    ok = False
            day = r.completed_on
            outcome = r.outcome
            if course is None or day is None or (outcome != "passed" and outcome != "failed"):
                continue
            course_id, cpd_hours, validity = course
            credits = r.credits
            if credits is None:
                credits = cpd_hours if outcome == "passed" else 0.0
            windows = self.windows.get(course_id)
            # The usual row breaks no rule: a quick test, and the full check (with its messages) otherwise.
            if not (day <= today and credits <= cpd_hours and (outcome == "passed" or not credits)
                    and offering is None and windows is not None and _covered(windows, day)):
                for field_name, message in completion_problems(
                    hub_id=hub_id, hub_code=hub_code, course_id=course_id, course_code=r.course,
                    cpd_hours=cpd_hours, windows=windows, completed_on=day, outcome=outcome, credits=credits,
                    offering=offering, today=today,
                ):
                    add(row, field_name, message)
                    ok = False
            if not ok or clinician_id is None:
                continue
            recorded = existing.get(reference)
            if recorded is not None:
                changed = differences(recorded, {
                    "clinician_id": clinician_id, "course_id": course_id, "offering_id": r.offering_id,
                    "completed_on": day, "outcome": outcome, "score": r.score, "credits": credits})
                if changed:
                    add(row, "reference", f"{reference} is already recorded for a different completion "
                                          f"(differs in: {', '.join(changed)})")
                else:
                    report.existing += 1
                continue
            report.new += 1
            if self.keep and report.error_count == 0:
                convert = self._convert
                key = (day, outcome, validity)
                until = self._valid_until.get(key, _MISSING)
                if until is _MISSING:
                    until = self._valid_until[key] = convert["valid_until"](valid_until(day, outcome, validity))
                self.pending.append((clinician_id, course_id, r.offering_id, reference, convert["completed_on"](day),
                                     convert["outcome"](outcome), convert["score"](r.score),
                                     convert["credits"](credits), until, *self._constant))

    def insert(self) -> int:
        """Insert every pending row with the driver's executemany, in batches; returns how many.

        The pending tuples already hold each column's bound (converted) value, so they go to the driver as they
        are: building a dict per row and letting SQLAlchemy process each one again cost three times the insert.
        """
        pending, self.pending = self.pending, []
        connection = db.session.connection()
        placeholder = _PLACEHOLDERS.get(connection.dialect.paramstyle)
        if placeholder is None:  # pragma: no cover - SQLite (qmark) and psycopg (pyformat) are covered
            target = sa.table(Completion.__tablename__, *(sa.column(name) for name in _INSERTED))
            for start in range(0, len(pending), INSERT_BATCH):
                connection.execute(sa.insert(target), [dict(zip(_INSERTED, values, strict=True))
                                                       for values in pending[start:start + INSERT_BATCH]])
            return len(pending)
        statement = (f"INSERT INTO {Completion.__tablename__} ({', '.join(_INSERTED)}) "  # noqa: S608 - constants
                     f"VALUES ({', '.join([placeholder] * len(_INSERTED))})")
        for start in range(0, len(pending), INSERT_BATCH):
            connection.exec_driver_sql(statement, pending[start:start + INSERT_BATCH])
        return len(pending)


# The columns an import writes, in the order of the pending tuples.
_INSERTED = ("clinician_id", "course_id", "offering_id", "reference", "completed_on", "outcome", "score", "credits",
             "valid_until", "hub_id", "recorded_at", "recorded_by_id")
# Positional placeholders by DBAPI paramstyle (psycopg takes %s for positional parameters under both).
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _rows_in(connection: Any, sql: str, values: list[Any], *leading: Any) -> list[tuple[Any, ...]] | None:
    """The raw rows of `sql`, a SELECT ending in "IN ({})" (after one "{}" per leading parameter), for `values`.

    The placeholders are written here and the values go to the driver as they are: SQLAlchemy's expanding IN
    processed each of a batch's values on every execution, which cost more than the lookup itself. Values and
    results are text and integers, which need no type processing. None when the driver's paramstyle is not one
    this knows (the caller then asks through SQLAlchemy).
    """
    placeholder = _PLACEHOLDERS.get(connection.dialect.paramstyle)
    if placeholder is None:  # pragma: no cover - SQLite (qmark) and psycopg (pyformat) are covered
        return None
    marks = [placeholder] * len(leading) + [", ".join([placeholder] * len(values))]
    return connection.exec_driver_sql(sql.format(*marks), (*leading, *values)).all()


def _identity(value: Any) -> Any:
    return value


def _converter(column: sa.Column, dialect: Any) -> Callable[[Any], Any]:
    """The column type's bind processor for this dialect, remembering each distinct value's result."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return _identity
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        result = memo.get(value, _MISSING)
        if result is _MISSING:
            result = memo[value] = process(value)
        return result

    return convert


def _covered(windows: list[Window], day: date) -> bool:
    for start, end in windows:
        if start <= day and (end is None or day <= end):
            return True
    return False


# --- the import ------------------------------------------------------------------------------------------------


def import_completions(
    hub: Organisation,
    fileobj: IO[bytes],
    fmt: str,
    dry_run: bool,
    actor: Account | None,
    today: date,
    *,
    max_bytes: int | None = None,
    max_rows: int | None = None,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Check (and unless `dry_run`, record) every completion in a CSV or JSON file of `hub`'s.

    Raises Invalid (422) for an unreadable file or, on a commit, for any row error (nothing is written);
    TooLarge (413) past the byte limit. Flushes, never commits.
    """
    if fmt not in FORMATS:
        raise Invalid("unknown file format", errors={"format": [f"must be one of: {', '.join(FORMATS)}"]})
    limit_bytes, limit_rows = import_limits()
    max_bytes = max_bytes if max_bytes is not None else limit_bytes
    max_rows = max_rows if max_rows is not None else limit_rows
    report = ImportReport(hub=hub.code, format=fmt, dry_run=dry_run)
    source = _Source(fileobj, max_bytes, progress)
    buffered = io.BufferedReader(source, buffer_size=READ_SIZE)
    head = buffered.peek(4)[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_error("the file is UTF-16 text; save it as UTF-8 (in Excel: 'CSV UTF-8')")
    if head.startswith(b"PK\x03\x04"):
        raise _file_error("the file is a spreadsheet workbook or a zip archive; export it as CSV UTF-8")
    text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="strict", newline="")
    if not dry_run:
        _lock(Organisation, hub.id)  # one import per hub at a time, so both cannot insert the same references
    batcher = _Batcher(hub, report, today, keep=not dry_run, actor=actor)
    where = [1]
    try:
        if fmt == "csv":
            index, records = _csv_records(text, where)
        else:
            index, records = _JSON_INDEX, _json_records(report, _json_items(text, where))
        parser = _Parser(report, index)
        batch: list[_Row] = []
        for row, cells in records:
            report.rows += 1
            if report.rows > max_rows:
                raise Invalid(f"the file has more than {max_rows} rows, the import limit; split it",
                              errors={"file": [f"more than {max_rows} rows"]}, limit_rows=max_rows)
            if cells is None:
                continue
            batch.append(parser.parse(row, cells))
            if len(batch) >= BATCH:
                batcher.process(batch)
                batch = []
        if batch:
            batcher.process(batch)
    except UnicodeDecodeError:
        raise _file_error(
            f"the file is not UTF-8 text (an invalid byte near {'row' if fmt == 'csv' else 'item'} {where[0]}); "
            "save it as UTF-8 (in Excel: 'CSV UTF-8'), not Latin-1 or Windows-1252"
        ) from None
    finally:
        text.detach()  # leave the caller's file open
    report.bytes = source.count
    report.file_sha256 = source.sha256.hexdigest()
    if report.rows == 0:
        raise _file_error("the file has no completions")
    if report.error_count and not dry_run:
        raise Invalid(
            f"{report.summary}: fix the rows listed and send the file again",
            errors={"file": [report.summary]},
            row_errors=report.as_dict()["errors"],
            error_count=report.error_count,
            rows=report.rows,
        )
    if not dry_run and report.new:
        report.created = batcher.insert()
        audit.record(
            "completion.import",
            "hub",
            hub.code,
            {"file_sha256": report.file_sha256, "format": fmt, "bytes": report.bytes, "rows": report.rows,
             "created": report.created, "existing": report.existing},
        )
    return report


def _json_records(report: ImportReport,
                  items: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, list[str] | None]]:
    """Items as cells; None for an item already reported as unreadable."""
    for row, item in items:
        yield row, _json_cells(report, row, item)
