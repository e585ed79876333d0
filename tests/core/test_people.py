"""Registry numbers, clinician search and reference data."""

import itertools
from datetime import date, timedelta

import pytest

from registry.people import numbers
from tests.conftest import problem


def test_registry_numbers_are_random_well_formed_and_self_checking():
    issued = {numbers.new_registry_number() for _ in range(2000)}
    assert len(issued) == 2000
    for number in itertools.islice(issued, 200):
        assert len(number) == 11 and number[3] == "-" and number[7] == "-"
        assert numbers.normalise(number) == number
        assert numbers.normalise(number.lower().replace("-", " ")) == number


def test_check_character_catches_every_single_typo_and_neighbour_swap():
    number = numbers.new_registry_number()
    symbols = number.replace("-", "")
    for i, original in enumerate(symbols):
        for replacement in numbers.ALPHABET:
            if replacement != original:
                typo = symbols[:i] + replacement + symbols[i + 1:]
                assert numbers.normalise(typo) is None, typo
    for i in range(len(symbols) - 1):
        if symbols[i] != symbols[i + 1]:
            swapped = symbols[:i] + symbols[i + 1] + symbols[i] + symbols[i + 2:]
            assert numbers.normalise(swapped) is None, swapped


def test_bad_check_character_is_a_clear_404(client, world):
    number = world.clinician.registry_number
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    r = client.get(f"/api/v1/clinicians/{wrong}", headers=world.h("board_ie"))
    assert r.status_code == 404
    assert "check character" in problem(r)["detail"]


@pytest.mark.parametrize("query", ["siobhan", "BYRNE", "byrne siobhán", "Siobhán Byrne"])
def test_search_by_name_ignores_case_accents_and_order(client, world, query):
    r = client.get("/api/v1/clinicians", query_string={"q": query}, headers=world.h("board_fr"))
    assert r.status_code == 200
    body = r.get_json()
    assert [c["registry_number"] for c in body["items"]] == [world.clinician.registry_number]
    assert body["total"] == 1


def test_search_by_registry_number_and_licence_number(client, world):
    number = world.clinician.registry_number
    r = client.get("/api/v1/clinicians", query_string={"q": number.replace("-", "").lower()},
                   headers=world.h("secretariat"))
    assert [c["registry_number"] for c in r.get_json()["items"]] == [number]
    r = client.get("/api/v1/clinicians", query_string={"licence_number": "IE-2221-0001"},
                   headers=world.h("board_ie"))
    assert [c["registry_number"] for c in r.get_json()["items"]] == [number]


def test_clinician_list_is_paginated(client, world):
    for n in range(5):
        world.make_clinician("FR", family_name=f"Paged{n}")
    r = client.get("/api/v1/clinicians", query_string={"home_state": "FR", "page_size": 2, "page": 3},
                   headers=world.h("board_ie"))
    body = r.get_json()
    assert body["total"] == 5 and body["page"] == 3 and len(body["items"]) == 1
    assert body["items"][0]["family_name"] == "Paged4"


def test_standing_on_a_date_for_the_clinician_and_boards(client, world):
    suspended_on = date.today() - timedelta(days=100)
    day_before = (suspended_on - timedelta(days=1)).isoformat()
    client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                json={"action": "suspend", "decided_on": suspended_on.isoformat(), "reason": "inquiry"})
    number = world.clinician.registry_number
    r = client.get(f"/api/v1/clinicians/{number}/standing?on={day_before}", headers=world.h("clinician"))
    assert r.status_code == 200
    body = r.get_json()
    assert body["on"] == day_before
    assert body["clinician"]["registry_number"] == number
    assert [lic["state"]["status"] for lic in body["licences"]] == ["active"]
    r = client.get(f"/api/v1/clinicians/{number}/standing?on={suspended_on}", headers=world.h("board_fr"))
    licence = r.get_json()["licences"][0]
    assert licence["state"]["status"] == "suspended"
    assert [e["action"] for e in licence["events"]] == ["issue", "suspend"]
    assert client.get(f"/api/v1/clinicians/{number}/standing", headers=world.h("other_clinician")).status_code == 403


def test_an_unknown_member_state_in_a_new_organisation_is_invalid_input(client, world, app):
    """422 naming the field (the body is wrong, no resource is missing), and nothing is written."""
    from tests.conftest import count

    before = count(app, "organisations")
    r = client.post("/api/v1/organisations", headers=world.h("secretariat"),
                    json={"code": "ZZ-BOARD", "name": "Nowhere board", "kind": "licensing_board",
                          "member_state_code": "ZZ", "language": "en"})
    assert r.status_code == 422, r.get_data(as_text=True)
    body = problem(r)
    assert "no member state ZZ" in body["detail"] and "member_state_code" in body["errors"]
    assert count(app, "organisations") == before
