"""Codes and licence numbers match their pattern over the whole value.

marshmallow's validate.Regexp uses re.match, with which a pattern ending in "$" also matches before a final "\\n":
"L-1\\n" passed as a licence number and was stored beside "L-1", and codes were stored with a "\\n" that no lookup
(re.fullmatch) could find again. A trailing "\\n" or "\\r\\n" is refused with 422 and nothing is written; the
plain value still works.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import audit_count, count, problem

T = date.today()
ENDINGS = pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])


def d(days: int) -> str:
    return (T + timedelta(days=days)).isoformat()


def licence_body(world, number: str) -> dict[str, Any]:
    return {"clinician": world.other_clinician.registry_number, "profession": "2221", "number": number,
            "decided_on": d(-1)}


def organisation_body(**overrides: Any) -> dict[str, Any]:
    return {"code": "PT-B9", "name": "Ordem nova", "kind": "licensing_board", "member_state_code": "PT",
            "language": "pt", **overrides}


def member_state_body(**overrides: Any) -> dict[str, Any]:
    return {"code": "DE", "name": "Germany", "official_languages": ["de"], "joined_on": "2021-01-01", **overrides}


def agreement_body(**overrides: Any) -> dict[str, Any]:
    return {"code": "IE-FR-NURSING", "title": "Nursing recognition", "states": ["IE", "FR"], "professions": ["2221"],
            "in_force_from": d(-10), "decision_deadline_days": 30, **overrides}


def programme_body(**overrides: Any) -> dict[str, Any]:
    return {"code": "NURSE-X", "name": "Compact nursing exchange", "coordinating_state": "IE",
            "states": ["IE", "PT", "FR"], "professions": ["2221"], "starts_on": d(-60), "ends_on": d(400),
            "capacity": 3, "recognition_required": False, "status": "open", **overrides}


def course_body(**overrides: Any) -> dict[str, Any]:
    return {"code": "TRIAGE-MCI", "titles": {"en": "Mass-casualty triage", "fr": "Triage en afflux massif"},
            "fallback_language": "en", "cpd_hours": 6.5, "validity_months": 36, "professions": ["2221"],
            "owners": [{"hub": "IE-HUB"}], **overrides}


def clinician_body(**overrides: Any) -> dict[str, Any]:
    return {"family_name": "Kelly", "given_names": "Aoife", "date_of_birth": "1990-05-17", "sex": "female",
            "nationality": "IE", "home_state_code": "IE", "languages": [{"language": "en", "level": "native"}],
            **overrides}


# (name, who posts, url, table written, body with the field's value replaced, the field in the 422's errors, plain)
CASES = [
    ("licence-number", "board_ie", "/api/v1/licences", "licences",
     lambda w, v: licence_body(w, v), "number", "IE-NEW-7"),
    ("organisation-code", "secretariat", "/api/v1/organisations", "organisations",
     lambda w, v: organisation_body(code=v), "code", "PT-B9"),
    ("organisation-language", "secretariat", "/api/v1/organisations", "organisations",
     lambda w, v: organisation_body(language=v), "language", "pt"),
    ("member-state-language", "secretariat", "/api/v1/member-states", "member_states",
     lambda w, v: member_state_body(official_languages=[v]), "official_languages", "de"),
    ("agreement-code", "secretariat", "/api/v1/agreements", "agreements",
     lambda w, v: agreement_body(code=v), "code", "IE-FR-NURSING"),
    ("programme-code", "secretariat", "/api/v1/programmes", "exchange_programmes",
     lambda w, v: programme_body(code=v), "code", "NURSE-X"),
    ("course-code", "secretariat", "/api/v1/courses", "courses",
     lambda w, v: course_body(code=v), "code", "TRIAGE-MCI"),
    ("course-fallback-language", "secretariat", "/api/v1/courses", "courses",
     lambda w, v: course_body(fallback_language=v, titles={"en": "Triage", v: "Triage"}), "fallback_language", "en"),
    ("course-title-language", "secretariat", "/api/v1/courses", "courses",
     lambda w, v: course_body(titles={"en": "Triage", v: "Triage"}), "titles", "fr"),
    ("clinician-language", "board_ie", "/api/v1/clinicians", "clinicians",
     lambda w, v: clinician_body(languages=[{"language": v, "level": "native"}]), "languages", "ga"),
]


@ENDINGS
@pytest.mark.parametrize("who, url, table, body, field, plain", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_trailing_line_break_is_refused(client, world, app, ending, who, url, table, body, field, plain):
    before = count(app, table), audit_count(app)
    r = client.post(url, json=body(world, plain + ending), headers=world.h(who))
    assert r.status_code == 422, r.get_json()
    assert field in problem(r)["errors"], r.get_json()
    assert (count(app, table), audit_count(app)) == before
    # The same value without the line break is taken.
    r = client.post(url, json=body(world, plain), headers=world.h(who))
    assert r.status_code == 201, r.get_json()
    assert count(app, table) == before[0] + 1


@ENDINGS
def test_a_licence_number_with_a_line_break_is_no_second_licence(client, world, app, ending):
    r = client.post("/api/v1/licences", json=licence_body(world, "L-1"), headers=world.h("board_ie"))
    assert r.status_code == 201, r.get_json()
    before = count(app, "licences"), audit_count(app)
    r = client.post("/api/v1/licences", json=licence_body(world, "L-1" + ending), headers=world.h("board_ie"))
    assert r.status_code == 422, r.get_json()
    assert "number" in problem(r)["errors"]
    assert (count(app, "licences"), audit_count(app)) == before
    # The plain duplicate is still the conflict it always was.
    r = client.post("/api/v1/licences", json=licence_body(world, "L-1"), headers=world.h("board_ie"))
    assert r.status_code == 409
    assert "already has a licence numbered" in problem(r)["detail"]
    assert (count(app, "licences"), audit_count(app)) == before


def _patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_patterns(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(v) for v in node))
    return set()


def test_the_documented_patterns_are_unchanged(client):
    """The fix is in how a pattern is applied, not in the patterns: OpenAPI's (ECMA-262) "$" ends the value."""
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    patterns = _patterns(r.get_json())
    assert {"^[A-Z0-9][A-Z0-9-]{1,39}$", "^[A-Za-z0-9][A-Za-z0-9/.-]*$", "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"} <= patterns
    assert not [p for p in patterns if "\\Z" in p]
