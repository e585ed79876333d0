"""Bulk import: numbers that str.isdigit() or float() take but int() refuses, and a header too big for csv.

"²".isdigit() is True but int("²") raises, and int() refuses more than 4300 digits: an `offering` of either
answered 500. A header field over csv.field_size_limit() raised csv.Error outside the handling of the data rows:
also a 500. Each is now a row error (or, for the header, an error for the file) and nothing is written.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import audit_count, count, problem
from tests.curricula.conftest import d
from tests.curricula.test_import import csv_bytes, upload

HEADER = "reference,registry_number,course,completed_on,outcome,score,credits,offering"
HUGE = "1" * 5000  # more digits than int() converts (sys.get_int_max_str_digits() is 4300)
BAD_NUMBERS = {"superscript-two": "²", "arabic-indic": "٥", "fullwidth": "５", "5000-digits": HUGE,
               "5000-zeros-then-1": "0" * 4999 + "1",
               "underscore": "1_0"}
NUMERIC = ("offering", "score", "credits")
FORMATS = ("csv", "json")


def _file(world, fmt: str, column: str, value: str) -> tuple[bytes, str]:
    """A one-row file with `value` in `column`, the rest of the row good."""
    row = {"reference": "R-1", "registry_number": world.clinician.registry_number, "course": "TRAUMA-ITLS",
           "completed_on": d(-2).isoformat(), "outcome": "passed", "score": "", "credits": "", "offering": ""}
    row[column] = value
    if fmt == "json":
        return json.dumps([{k: v for k, v in row.items() if v != ""}]).encode(), "application/json"
    return csv_bytes([HEADER, ",".join(row[name] for name in HEADER.split(","))]), "text/csv"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("column", NUMERIC)
@pytest.mark.parametrize("value", list(BAD_NUMBERS.values()), ids=list(BAD_NUMBERS))
def test_a_number_int_or_float_cannot_read_is_a_row_error(client, world, app, curriculum, fmt, column, value):
    data, content_type = _file(world, fmt, column, value)
    before = count(app, "completions"), audit_count(app)

    r = upload(client, world, data, dry_run=True, content_type=content_type)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    report = r.get_json()
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2 if fmt == "csv" else 1, column)]
    assert report["error_count"] == 1 and report["new"] == 0 and report["committed"] is False

    r = upload(client, world, data, content_type=content_type)
    assert r.status_code == 422, r.get_data(as_text=True)[:500]
    body = problem(r)
    assert [e["field"] for e in body["row_errors"]] == [column]
    assert "nothing was written" in body["detail"]
    assert (count(app, "completions"), audit_count(app)) == before


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value, field", [("00000000001", None), ("0", "offering"), ("2147483648", "offering"),
                                          ("+5", "offering"), ("-0", "offering"), ("1.0", "offering")])
def test_offering_ids_are_still_read_as_before(client, world, app, curriculum, fmt, value, field):
    """Leading zeros still name the offering; 0 and ids past the database's integer are refused as before."""
    data, content_type = _file(world, fmt, "offering", value)
    report = upload(client, world, data, dry_run=True, content_type=content_type).get_json()
    # An id that is read is looked up: there is no offering 1, which is that row's only error.
    expected = "no offering 1" if field is None else "must be an offering id (a positive whole number)"
    assert [(e["field"], e["message"]) for e in report["errors"]] == [("offering", expected)]


def test_a_json_number_too_long_for_int_is_an_error_for_the_file(client, world, app, curriculum):
    rn = world.clinician.registry_number
    data = (f'[{{"reference": "R-1", "registry_number": "{rn}", "course": "TRAUMA-ITLS", '
            f'"completed_on": "{d(-2)}", "outcome": "passed", "offering": {HUGE}}}]').encode()
    before = count(app, "completions"), audit_count(app)
    for dry_run in (True, False):
        r = upload(client, world, data, dry_run=dry_run, content_type="application/json")
        assert r.status_code == 422, r.get_data(as_text=True)[:500]
        assert "number is too long" in problem(r)["detail"]
    assert (count(app, "completions"), audit_count(app)) == before


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_header_field_too_big_for_csv_is_an_error_for_the_file(client, world, app, curriculum, quoted):
    rn = world.clinician.registry_number
    huge = "x" * 200_000  # csv.field_size_limit() is 131,072 characters
    header = HEADER + "," + (f'"{huge}"' if quoted else huge)
    data = csv_bytes([header, f"R-1,{rn},TRAUMA-ITLS,{d(-2)},passed,,,"])
    before = count(app, "completions"), audit_count(app)
    for dry_run in (True, False):
        r = upload(client, world, data, dry_run=dry_run)
        assert r.status_code == 422, r.get_data(as_text=True)[:500]
        body = problem(r)
        assert "header row (row 1) cannot be read as CSV" in body["detail"]
        assert "file" in body["errors"]
    assert (count(app, "completions"), audit_count(app)) == before
