"""Mobility figures against a fixture computed by hand."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from registry.core.db import db
from tests.conftest import problem

# (clinician key, home, host, profession, start, recorded status, in the programme)
SECONDMENTS = [
    ("ie1", "IE", "PT", "2221", date(2025, 3, 1), "approved", True),
    ("ie1", "IE", "FR", "2221", date(2025, 9, 1), "terminated", True),
    ("ie2", "IE", "PT", "2211", date(2025, 5, 10), "suspended", True),
    ("pt1", "PT", "IE", "2221", date(2025, 2, 28), "approved", False),
    ("fr1", "FR", "PT", "2221", date(2026, 1, 10), "approved", True),
    ("pt1", "PT", "FR", "2221", date(2025, 7, 1), "cancelled", False),  # never went: not counted
    ("fr1", "FR", "IE", "2221", date(2025, 4, 1), "proposed", False),  # not decided: not counted
]
PEOPLE = {  # key: (home, board, sex, date of birth)
    "ie1": ("IE", "IE-B", "female", date(1990, 6, 15)),  # 34 on 2025-03-01, 35 on 2025-09-01
    "ie2": ("IE", "IE-B", "male", date(1960, 1, 1)),  # 65
    "pt1": ("PT", "PT-B", "female", date(1995, 3, 1)),  # 29 on 2025-02-28: the day before turning 30
    "fr1": ("FR", "FR-B", "other", date(1980, 12, 31)),  # 45 on 2026-01-10
}


@pytest.fixture
def figures(world, app):
    from registry.mobility.models import ExchangeProgramme, ProgrammeHostCapacity, ProgrammeStatus, Secondment

    licences = {}
    clinicians = {}
    for key, (home, board, sex, born) in PEOPLE.items():
        clinicians[key] = world.make_clinician(home, sex=sex, date_of_birth=born)
        licences[key] = world.make_licence(clinicians[key], board)
    with app.app_context():
        programme = ExchangeProgramme(code="FIG-1", name="Figures", coordinating_state_code="IE",
                                      starts_on=date(2025, 1, 1), ends_on=date(2026, 12, 31), capacity=4,
                                      required_courses=[], recognition_required=False,
                                      status=ProgrammeStatus.OPEN)
        programme.host_capacities = [ProgrammeHostCapacity(state_code="PT", capacity=3)]
        db.session.add(programme)
        for key, home, host, profession, start, status, in_programme in SECONDMENTS:
            db.session.add(Secondment(
                clinician_id=clinicians[key].id, profession_code=profession, home_state_code=home,
                host_state_code=host, host_institution="H", supervisor="S", starts_on=start,
                ends_on=date(start.year + 1, 1, 31), home_licence_id=licences[key], status=status,
                programme=programme if in_programme else None))
        db.session.commit()
    return world


def get(client, world, path, **query):
    r = client.get(f"/api/v1/reports/mobility/{path}", headers=world.h("board_pt"), query_string=query)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r


def test_flows_match_the_hand_computed_figures(client, figures):
    world = figures
    flows = get(client, world, "flows").get_json()
    assert [(f["state"], f["inflow"], f["outflow"], f["net"]) for f in flows] == [
        ("FR", 1, 1, 0), ("IE", 1, 3, -2), ("PT", 3, 1, 2)]
    assert flows[0]["name"] == "France"
    in_2025 = get(client, world, "flows", **{"from": "2025-01-01", "to": "2025-12-31"}).get_json()
    assert [(f["state"], f["inflow"], f["outflow"], f["net"]) for f in in_2025] == [
        ("FR", 1, 0, 1), ("IE", 1, 3, -2), ("PT", 2, 1, 1)]
    nurses = get(client, world, "flows", profession="2221").get_json()
    assert [(f["state"], f["inflow"], f["outflow"], f["net"]) for f in nurses] == [
        ("FR", 1, 1, 0), ("IE", 1, 2, -1), ("PT", 2, 1, 1)]


def test_routes_programme_fill_and_demographics(client, figures):
    world = figures
    routes = get(client, world, "secondments").get_json()
    assert [(r["home_state"], r["host_state"], r["profession"], r["year"], r["secondments"]) for r in routes] == [
        ("FR", "PT", "2221", 2026, 1), ("IE", "FR", "2221", 2025, 1), ("IE", "PT", "2211", 2025, 1),
        ("IE", "PT", "2221", 2025, 1), ("PT", "IE", "2221", 2025, 1)]
    fill = get(client, world, "programmes").get_json()
    assert fill == [
        {"programme": "FIG-1", "status": "open", "host_state": None, "capacity": 4, "placed": 3, "fill_rate": 0.75},
        {"programme": "FIG-1", "status": "open", "host_state": "PT", "capacity": 3, "placed": 3, "fill_rate": 1.0},
    ]
    people = get(client, world, "demographics").get_json()
    assert [(p["sex"], p["age_band"], p["secondments"]) for p in people] == [
        ("female", "under 30", 1), ("female", "30-39", 2), ("male", "60 and over", 1), ("other", "40-49", 1)]
    from_ireland = get(client, world, "demographics", home_state="IE").get_json()
    assert [(p["sex"], p["age_band"], p["secondments"]) for p in from_ireland] == [
        ("female", "30-39", 2), ("male", "60 and over", 1)]


def test_csv_by_query_or_accept_header(client, figures):
    world = figures
    for response in (get(client, world, "flows", format="csv"),
                     client.get("/api/v1/reports/mobility/flows", headers={**world.h("secretariat"),
                                                                           "Accept": "text/csv"})):
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert rows[0] == ["state", "name", "inflow", "outflow", "net"]
        assert rows[1:] == [["FR", "France", "1", "1", "0"], ["IE", "Ireland", "1", "3", "-2"],
                            ["PT", "Portugal", "3", "1", "2"]]
    fill = list(csv.reader(io.StringIO(get(client, world, "programmes", format="csv").get_data(as_text=True))))
    assert fill[1] == ["FIG-1", "open", "", "4", "3", "0.75"]


def test_reports_are_for_boards_and_the_secretariat(client, figures):
    world = figures
    for who, status in (("clinician", 403), ("hub_ie", 403), ("anonymous", 401), ("secretariat", 200)):
        r = client.get("/api/v1/reports/mobility/flows", headers=world.h(who))
        assert r.status_code == status, who
    r = client.get("/api/v1/reports/mobility/flows?from=2025-02-01&to=2025-01-01", headers=world.h("board_ie"))
    assert r.status_code == 422 and "to" in problem(r)["errors"]
    r = client.get("/api/v1/reports/mobility/flows?format=xml", headers=world.h("board_ie"))
    assert r.status_code == 422 and "format" in problem(r)["errors"]
