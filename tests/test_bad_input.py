"""Hostile and malformed input: every refusal is a 4xx problem+json that names the field and writes nothing."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest

from registry.people import numbers
from tests.conftest import World, audit_count, count, problem

T = date.today()


def _with_wrong_check_character() -> str:
    """A registry number of the right shape whose check character is wrong (whatever the check algorithm)."""
    wrong = next(ch for ch in numbers.ALPHABET if numbers.normalise(f"ABC-DEF-GH{ch}") is None)
    return f"ABC-DEF-GH{wrong}"


BAD_CHECK = _with_wrong_check_character()
WRITE_TABLES = ("member_states", "organisations", "clinicians", "licences", "licence_events", "accounts",
                "api_keys", "access_log", "audit_events")


def snapshot(app) -> dict[str, int]:
    return {table: count(app, table) for table in WRITE_TABLES}


def clinician_body(**overrides):
    body = {"family_name": "Kelly", "given_names": "Aoife", "date_of_birth": "1990-05-17", "sex": "female",
            "nationality": "IE", "home_state_code": "IE", "languages": [{"language": "en", "level": "C2"}]}
    body.update(overrides)
    return body


def licence_body(w: World, **overrides):
    body = {"clinician": w.other_clinician.registry_number, "profession": "2221", "number": "IE-NEW-1",
            "decided_on": (T - timedelta(days=1)).isoformat()}
    body.update(overrides)
    return body


# (who, method, url builder, a valid body builder): representative writes of each blueprint.
ENDPOINTS = {
    "clinician-create": ("board_ie", "POST", lambda w: "/api/v1/clinicians", lambda w: clinician_body()),
    "clinician-patch": ("board_ie", "PATCH", lambda w: f"/api/v1/clinicians/{w.clinician.registry_number}",
                        lambda w: {"family_name": "Byrne-Kelly"}),
    "licence-issue": ("board_ie", "POST", lambda w: "/api/v1/licences", licence_body),
    "licence-event": ("board_ie", "POST", lambda w: f"/api/v1/licences/{w.licence}/events",
                      lambda w: {"action": "suspend", "decided_on": T.isoformat(), "reason": "inquiry"}),
    "member-state-create": ("secretariat", "POST", lambda w: "/api/v1/member-states",
                            lambda w: {"code": "DE", "name": "Germany", "official_languages": ["de"],
                                       "joined_on": "2024-01-01"}),
    "organisation-patch": ("secretariat", "PATCH", lambda w: "/api/v1/organisations/IE-B",
                           lambda w: {"name": "Renamed"}),
    "account-create": ("secretariat", "POST", lambda w: "/api/v1/accounts",
                       lambda w: {"email": "n@test.example", "display_name": "N", "role": "hub_officer",
                                  "organisation": "PT-HUB", "password": "correct horse battery"}),
    "api-key-create": ("hub_ie", "POST", lambda w: "/api/v1/me/api-keys", lambda w: {"name": "ci"}),
}


def send(client, world, endpoint, *, data=None, body=None, content_type="application/json"):
    who, method, url, _ = ENDPOINTS[endpoint]
    if body is not None:
        data = json.dumps(body)
    return client.open(url(world), method=method, data=data, content_type=content_type, headers=world.h(who))


def assert_refused(r, app, before, status, *fields):
    """A 4xx problem document naming `fields` under `errors`, and nothing written."""
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    body = problem(r)
    assert body["detail"]
    for name in fields:
        assert name in body.get("errors", {}), body
    assert snapshot(app) == before
    return body


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_valid_body_is_accepted(client, world, app, endpoint):
    """The baseline every refusal below is a variation of."""
    r = send(client, world, endpoint, body=ENDPOINTS[endpoint][3](world))
    assert r.status_code in (200, 201), r.get_json()


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("raw, status, field", [
    pytest.param('{"family_name": "Kelly",', 400, "json", id="truncated-json"),
    pytest.param("{'single': 'quotes'}", 400, "json", id="not-json"),
    pytest.param('{"a": 1,}', 400, "json", id="trailing-comma"),
    pytest.param(b"\xff\xfe{}", 400, "json", id="not-utf8"),
    pytest.param("[]", 422, "_schema", id="array-instead-of-object"),
    pytest.param('"text"', 422, "_schema", id="string-instead-of-object"),
    pytest.param("42", 422, "_schema", id="number-instead-of-object"),
    pytest.param("null", 422, None, id="null-body"),
    # Python parses these, but nothing downstream could hold them: each used to be a 500.
    pytest.param("[" * 5000 + "]" * 5000, 400, "json", id="nested-too-deeply"),
    pytest.param('{"a":' * 3000 + "1" + "}" * 3000, 400, "json", id="objects-nested-too-deeply"),
    pytest.param('{"name": ' + "9" * 5000 + "}", 400, "json", id="integer-with-5000-digits"),
    pytest.param('{"name": "\\ud800"}', 400, "json", id="lone-surrogate"),
    pytest.param('{"name": "a\\udfffb", "family_name": "x"}', 400, "json", id="lone-low-surrogate"),
    pytest.param('{"\\ud800": 1}', 400, "json", id="lone-surrogate-in-a-key"),
])
def test_malformed_bodies(client, world, app, endpoint, raw, status, field):
    before = snapshot(app)
    r = send(client, world, endpoint, data=raw)
    assert_refused(r, app, before, status, *([field] if field else []))


@pytest.mark.parametrize("endpoint, change, field", [
    ("clinician-create", {"date_of_birth": 19850101}, "date_of_birth"),
    ("clinician-create", {"family_name": 42}, "family_name"),
    ("clinician-create", {"family_name": None}, "family_name"),
    ("clinician-create", {"languages": "en"}, "languages"),
    ("clinician-create", {"languages": [{"language": "en", "level": "fluent"}]}, "languages"),
    ("clinician-create", {"languages": [{"language": "en", "level": "C1", "extra": 1}]}, "languages"),
    ("clinician-create", {"sex": "yes"}, "sex"),
    ("clinician-create", {"home_state_code": "ie"}, "home_state_code"),
    ("clinician-create", {"email": "not-an-email"}, "email"),
    ("clinician-create", {"not_duplicate_of": "ABC"}, "not_duplicate_of"),
    ("clinician-create", {"colour": "blue"}, "colour"),
    ("clinician-create", {"date_of_birth": "2025-02-30"}, "date_of_birth"),
    ("clinician-create", {"date_of_birth": "1990-13-01"}, "date_of_birth"),
    ("clinician-create", {"date_of_birth": "17/05/1990"}, "date_of_birth"),
    ("clinician-create", {"date_of_birth": "0001-01-01"}, "date_of_birth"),
    ("clinician-create", {"date_of_birth": (T + timedelta(days=1)).isoformat()}, "date_of_birth"),
    ("clinician-create", {"family_name": "x" * 10_000}, "family_name"),
    ("clinician-create", {"given_names": "Ao\x00ife"}, "given_names"),
    ("clinician-create", {"native_name": "\x00"}, "native_name"),
    ("clinician-create", {"family_name": "Kelly\nDROP"}, "family_name"),
    ("clinician-create", {"family_name": "   "}, "family_name"),
    ("clinician-create", {"email": "a\x00@example.com"}, "email"),
    ("clinician-create", {"languages": [{"language": "en", "level": "C1"}] * 21}, "languages"),
    ("clinician-patch", {"family_name": 7}, "family_name"),
    ("clinician-patch", {"given_names": "x" * 10_000}, "given_names"),
    ("clinician-patch", {"family_name": "By\x00rne"}, "family_name"),
    ("clinician-patch", {"date_of_birth": "1980-01-01"}, "date_of_birth"),
    ("licence-issue", {"decided_on": "2025-02-30"}, "decided_on"),
    ("licence-issue", {"decided_on": T.isoformat(), "valid_until": "2024-02-30"}, "valid_until"),
    ("licence-issue", {"number": "x" * 10_000}, "number"),
    ("licence-issue", {"number": "IE\x00-1"}, "number"),
    ("licence-issue", {"number": ["IE-1"]}, "number"),
    ("licence-issue", {"profession": 2221}, "profession"),
    ("licence-issue", {"profession": "9999"}, "profession"),
    ("licence-issue", {"clinician": BAD_CHECK}, "clinician"),
    ("licence-issue", {"board": "FR-B"}, "board"),
    ("licence-event", {"reason": "x" * 10_000}, "reason"),
    ("licence-event", {"reason": "in\x00quiry"}, "reason"),
    ("licence-event", {"decided_on": True}, "decided_on"),
    ("licence-event", {"action": ["suspend"]}, "action"),
    ("member-state-create", {"code": "DEU"}, "code"),
    ("member-state-create", {"name": "Germ\x00any"}, "name"),
    ("member-state-create", {"name": "x" * 10_000}, "name"),
    ("member-state-create", {"official_languages": []}, "official_languages"),
    ("member-state-create", {"official_languages": ["de\x00"]}, "official_languages"),
    ("member-state-create", {"joined_on": "2024-02-30"}, "joined_on"),
    ("member-state-create", {"left_on": "2023-01-01"}, "left_on"),
    ("organisation-patch", {"name": "Board\x00"}, "name"),
    ("organisation-patch", {"name": "x" * 10_000}, "name"),
    ("organisation-patch", {"kind": "training_hub"}, "kind"),
    ("organisation-patch", {"language": 12}, "language"),
    ("account-create", {"role": "superuser"}, "role"),
    ("account-create", {"password": "short"}, "password"),
    ("account-create", {"email": "x" * 10_000 + "@test.example"}, "email"),
    ("account-create", {"display_name": "N\x00"}, "display_name"),
    ("account-create", {"organisation": "NOPE"}, "organisation"),
    ("account-create", {"organisation": "IE-B"}, "organisation"),  # a hub officer of a board
    ("account-create", {"organisation": None, "clinician": BAD_CHECK, "role": "clinician"}, "clinician"),
    ("api-key-create", {"name": "\x00"}, "name"),
    ("api-key-create", {"name": "x" * 10_000}, "name"),
    ("api-key-create", {"name": {"a": 1}}, "name"),
    ("api-key-create", {"admin": True}, "admin"),
])
def test_invalid_values_name_the_field(client, world, app, endpoint, change, field):
    body = {**ENDPOINTS[endpoint][3](world), **change}
    before = snapshot(app)
    r = send(client, world, endpoint, body=body)
    assert_refused(r, app, before, 422, field)


def test_clinician_with_an_organisation_names_the_clinician_field(client, world, app):
    """An unknown clinician is reported against `clinician`, even when a (valid) organisation is also named."""
    before = snapshot(app)
    r = send(client, world, "account-create", body={**ENDPOINTS["account-create"][3](world), "role": "clinician",
                                                    "clinician": BAD_CHECK})
    body = assert_refused(r, app, before, 422, "clinician")
    assert "organisation" not in body["errors"]


@pytest.mark.parametrize("endpoint", ["clinician-create", "licence-event", "api-key-create"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x", None])
def test_wrong_content_type_is_415(client, world, app, endpoint, content_type):
    before = snapshot(app)
    who, method, url, body = ENDPOINTS[endpoint]
    r = client.open(url(world), method=method, data=json.dumps(body(world)), headers=world.h(who),
                    **({"content_type": content_type} if content_type else {}))
    assert_refused(r, app, before, 415)
    assert "application/json" in r.get_json()["detail"]


@pytest.mark.parametrize("endpoint", ["clinician-create", "licence-event", "member-state-create"])
def test_oversized_body_is_413(client, world, app, endpoint):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = {**ENDPOINTS[endpoint][3](world), "padding": "x" * limit}
    before = snapshot(app)
    r = send(client, world, endpoint, body=body)
    problem_body = assert_refused(r, app, before, 413)
    assert str(limit) in problem_body["detail"]


@pytest.mark.parametrize("endpoint", ["clinician-create", "licence-event"])
def test_oversized_chunked_body_is_413(client, world, app, endpoint):
    # No Content-Length: under a server that ends the stream (gunicorn), the limit is found while reading. The
    # first MAX_CONTENT_LENGTH bytes are not taken for the body.
    limit = app.config["MAX_CONTENT_LENGTH"]
    who, method, url, body = ENDPOINTS[endpoint]
    data = json.dumps(body(world)).encode() + b" " * limit  # a valid document, then more than the limit
    before = snapshot(app)
    r = client.open(url(world), method=method, input_stream=io.BytesIO(data), content_type="application/json",
                    headers=world.h(who), environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True,
                                                             "HTTP_TRANSFER_ENCODING": "chunked"})
    problem_body = assert_refused(r, app, before, 413)
    assert str(limit) in problem_body["detail"]


def test_empty_body_reports_the_required_fields(client, world, app):
    before = snapshot(app)
    r = send(client, world, "clinician-create", data="")
    body = assert_refused(r, app, before, 422, "family_name", "date_of_birth", "home_state_code")
    assert body["errors"]["family_name"] == ["Missing data for required field."]


# --- identifiers in the URL and the query string ---


@pytest.mark.parametrize("method, url", [
    ("GET", "/api/v1/licences/99999999999999999999"),
    ("GET", "/api/v1/licences/2147483648"),
    ("GET", "/api/v1/licences/0"),
    ("GET", "/api/v1/licences/-1"),
    ("GET", "/api/v1/licences/1.5"),
    ("GET", "/api/v1/licences/abc"),
    ("GET", "/api/v1/licences/99999999999999999999/status"),
    ("POST", "/api/v1/licences/99999999999999999999/events"),
    ("PATCH", "/api/v1/accounts/99999999999999999999"),
    ("GET", "/api/v1/member-states/ZZ"),
    ("GET", "/api/v1/member-states/%00"),
    ("PATCH", "/api/v1/member-states/I%00"),
    ("GET", "/api/v1/member-states/" + "x" * 5000),
    ("GET", "/api/v1/organisations/IE-B%00"),
    ("PATCH", "/api/v1/organisations/%00"),
    ("DELETE", "/api/v1/me/api-keys/%00"),
    ("DELETE", "/api/v1/me/api-keys/" + "f" * 5000),
    ("GET", "/api/v1/clinicians/%00"),
    ("GET", "/api/v1/clinicians/%00/standing"),
    ("GET", "/api/v1/clinicians/" + "x" * 5000),
])
def test_impossible_ids_are_404(client, world, app, method, url):
    before = snapshot(app)
    body = {"action": "suspend", "decided_on": T.isoformat(), "reason": "x"} if "events" in url else (
        {"active": False} if "accounts" in url else ({"name": "x"} if method == "PATCH" else None))
    r = client.open(url, method=method, json=body, headers=world.h("board_ie" if "events" in url else "secretariat"))
    assert r.status_code == 404, r.get_data(as_text=True)[:300]
    assert len(problem(r)["detail"]) < 300  # the detail does not echo a huge id back
    assert snapshot(app) == before


@pytest.mark.parametrize("url, field", [
    ("/api/v1/clinicians?page=" + str(10**30), "page"),
    ("/api/v1/clinicians?page=0", "page"),
    ("/api/v1/clinicians?page=-1", "page"),
    ("/api/v1/clinicians?page=abc", "page"),
    ("/api/v1/clinicians?page=1e3", "page"),
    ("/api/v1/clinicians?page_size=" + "9" * 5000, "page_size"),
    ("/api/v1/clinicians?page_size=100000", "page_size"),
    ("/api/v1/clinicians?q=%00", "q"),
    ("/api/v1/clinicians?q=" + "x" * 10_000, "q"),
    ("/api/v1/clinicians?home_state=Ireland", "home_state"),
    ("/api/v1/licences?number=%00", "number"),
    ("/api/v1/licences", "number"),
    ("/api/v1/licences/1/status?on=2025-02-30", "on"),
    ("/api/v1/licences/1/status?on=99999-01-01", "on"),
    ("/api/v1/organisations?kind=castle", "kind"),
    ("/api/v1/lookup?licence_number=%00", "licence_number"),
])
def test_bad_query_parameters_are_422(client, world, app, url, field):
    before = snapshot(app)
    r = client.get(url, headers=world.h("board_ie"))
    assert_refused(r, app, before, 422, field)


@pytest.mark.parametrize("number", [BAD_CHECK, BAD_CHECK.replace("-", "").lower(), "ABCDEFGH", "not a number",
                                    BAD_CHECK + "-K"])
def test_unknown_registry_number_with_a_bad_check_character(client, world, app, number):
    assert numbers.normalise(number) is None
    before = snapshot(app)
    r = client.get(f"/api/v1/clinicians/{number}", headers=world.h("board_ie"))
    assert r.status_code == 404
    assert "not a valid registry number" in problem(r)["detail"] and "check character" in problem(r)["detail"]
    r = client.get(f"/api/v1/clinicians/{number}/standing", headers=world.h("board_ie"))
    assert r.status_code == 404
    assert snapshot(app) == before  # a failed standing read logs nothing


def test_well_formed_unknown_registry_number(client, world):
    number = numbers.new_registry_number()
    r = client.get(f"/api/v1/clinicians/{number}", headers=world.h("board_ie"))
    assert r.status_code == 404
    assert problem(r)["detail"] == f"no clinician {number}"


def test_registry_number_typed_loosely_is_found(client, world):
    """Lower case, no hyphens, O for 0 and I/L for 1 are read as the canonical number."""
    number = world.clinician.registry_number
    loose = number.replace("-", "").lower().replace("0", "o").replace("1", "l")
    r = client.get(f"/api/v1/clinicians/{loose}", headers=world.h("board_ie"))
    assert r.status_code == 200 and r.get_json()["registry_number"] == number


# --- duplicates and conflicts ---


def test_duplicate_clinician_points_at_the_existing_record(client, world, app):
    existing = world.clinician  # Siobhán Byrne, home IE
    dob = existing.date_of_birth.isoformat()
    before = snapshot(app)
    r = client.post("/api/v1/clinicians", headers=world.h("board_ie2"), json=clinician_body(
        family_name="  BYRNE ", given_names="siobhan", date_of_birth=dob))
    assert r.status_code == 409
    body = problem(r)
    assert body["existing"] == [existing.registry_number]
    assert body["existing_url"] == f"/api/v1/clinicians/{existing.registry_number}"
    assert existing.registry_number in body["detail"] and "not_duplicate_of" in body["detail"]
    assert snapshot(app) == before
    assert client.get(body["existing_url"], headers=world.h("board_ie2")).status_code == 200

    # Naming the existing record as a different person registers the newcomer.
    r = client.post("/api/v1/clinicians", headers=world.h("board_ie2"), json=clinician_body(
        family_name="Byrne", given_names="Siobhan", date_of_birth=dob, not_duplicate_of=[existing.registry_number]))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["registry_number"] != existing.registry_number
    assert count(app, "clinicians") == before["clinicians"] + 1
    assert audit_count(app) == before["audit_events"] + 1


def test_not_duplicate_of_accepts_a_loosely_typed_number(client, world):
    existing = world.clinician
    loose = existing.registry_number.replace("-", "").lower()
    r = client.post("/api/v1/clinicians", headers=world.h("board_ie"), json=clinician_body(
        family_name="Byrne", given_names="Siobhán", date_of_birth=existing.date_of_birth.isoformat(),
        not_duplicate_of=[loose]))
    assert r.status_code == 201, r.get_json()


@pytest.mark.parametrize("change", [
    pytest.param({"home_state_code": "FR", "nationality": "FR"}, id="other-home-state"),
    pytest.param({"date_of_birth": "1960-01-01"}, id="other-date-of-birth"),
    pytest.param({"given_names": "Siobhán Marie"}, id="other-name"),
])
def test_near_matches_are_not_duplicates(client, world, change):
    existing = world.clinician
    body = {**clinician_body(family_name="Byrne", given_names="Siobhán",
                             date_of_birth=existing.date_of_birth.isoformat()), **change}
    who = "board_fr" if change.get("home_state_code") == "FR" else "board_ie"
    r = client.post("/api/v1/clinicians", headers=world.h(who), json=body)
    assert r.status_code == 201, r.get_json()


def test_naming_an_unrelated_record_does_not_acknowledge_the_duplicate(client, world, app):
    existing = world.clinician
    before = snapshot(app)
    r = client.post("/api/v1/clinicians", headers=world.h("board_ie"), json=clinician_body(
        family_name="Byrne", given_names="Siobhán", date_of_birth=existing.date_of_birth.isoformat(),
        not_duplicate_of=[world.other_clinician.registry_number]))
    assert r.status_code == 409
    assert problem(r)["existing"] == [existing.registry_number]
    assert snapshot(app) == before


def test_renaming_a_member_state_to_a_taken_name_is_a_clear_conflict(client, world, app):
    before = snapshot(app)
    r = client.patch("/api/v1/member-states/IE", json={"name": "France"}, headers=world.h("secretariat"))
    assert r.status_code == 409
    assert "France" in problem(r)["detail"]
    assert snapshot(app) == before


def test_duplicate_member_state_organisation_and_account(client, world, app):
    before = snapshot(app)
    cases = [
        ("/api/v1/member-states", {"code": "IE", "name": "Ireland again", "official_languages": ["en"],
                                   "joined_on": "2020-01-01"}),
        ("/api/v1/member-states", {"code": "DE", "name": "Ireland", "official_languages": ["en"],
                                   "joined_on": "2020-01-01"}),
        ("/api/v1/organisations", {"code": "IE-B", "name": "x", "kind": "licensing_board",
                                   "member_state_code": "IE", "language": "en"}),
        ("/api/v1/accounts", {"email": "BOARD_IE@test.example", "display_name": "x", "role": "board_officer",
                              "organisation": "IE-B", "password": "correct horse battery"}),
    ]
    for url, body in cases:
        r = client.post(url, json=body, headers=world.h("secretariat"))
        assert r.status_code == 409, (url, r.get_json())
        problem(r)
    assert snapshot(app) == before
