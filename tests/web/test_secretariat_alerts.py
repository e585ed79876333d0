"""The secretariat's alerts page: every alert with each receiving state's acknowledgement, filters, pages."""

from __future__ import annotations

import pytest

from registry.web import secretariat

from .conftest import d, field_error, text


@pytest.fixture
def two_alerts(pages, world, client):
    """An IE suspension (sent to FR and PT), then a FR restriction (sent to IE and PT)."""
    fr_licence = world.make_licence(world.other_clinician, "FR-B", number="FR-2221-0007")
    for licence, who, body in (
        (world.licence, "board_ie", {"action": "suspend", "decided_on": d(-2).isoformat(), "reason": "inquiry"}),
        (fr_licence, "board_fr", {"action": "restrict", "decided_on": d(-1).isoformat(), "reason": "review",
                                  "scope": "no night shifts"}),
    ):
        r = client.post(f"/api/v1/licences/{licence}/events", json=body, headers=world.h(who))
        assert r.status_code == 201, r.get_json()
    alerts = client.get("/api/v1/alerts", headers=world.h("secretariat")).get_json()["items"]
    return {a["origin_state"]: a["id"] for a in alerts}


def _rows(page: str) -> list[str]:
    """The clinicians' names in the table, top to bottom."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [row.split('">', 1)[1].split("</a>", 1)[0] for row in body.split('<th scope="row"><a href="')[1:]]


def test_the_secretariat_sees_every_alert_and_who_acknowledged_it(pages, world, client, two_alerts):
    admin = pages.client("secretariat")
    page = admin.get("/secretariat/alerts")
    assert page.status_code == 200
    html = text(page)
    ie, fr = world.clinician.full_name, world.other_clinician.full_name
    assert _rows(html) == [fr, ie]  # newest first
    assert "2 alerts" in html and "no night shifts" in html
    assert html.count(">not yet<") == 4  # two receiving states each, none acknowledged
    assert 'aria-current="page">Alerts<' in html

    r = client.post(f"/api/v1/alerts/{two_alerts['IE']}/acknowledgement", headers=world.h("board_fr"))
    assert r.status_code == 200
    html = text(admin.get("/secretariat/alerts"))
    assert html.count(">not yet<") == 3 and f"FR: {d(0).isoformat()}" in html

    assert _rows(text(admin.get("/secretariat/alerts?state=FR"))) == [ie]
    assert _rows(text(admin.get("/secretariat/alerts?state=FR&unacknowledged=true"))) == []
    assert "No alerts match" in text(admin.get("/secretariat/alerts?state=FR&unacknowledged=true"))
    assert _rows(text(admin.get("/secretariat/alerts?state=PT&unacknowledged=true"))) == [fr, ie]
    assert _rows(text(admin.get("/secretariat/alerts?state=IE"))) == [fr]


def test_the_alerts_page_comes_in_pages(pages, world, two_alerts, monkeypatch):
    monkeypatch.setattr(secretariat, "ALERTS_PER_PAGE", 1)
    admin = pages.client("secretariat")
    first = text(admin.get("/secretariat/alerts?state=PT"))
    assert _rows(first) == [world.other_clinician.full_name] and "page 1 of 2" in first
    assert "Newer" not in first and 'href="/secretariat/alerts?state=PT&amp;page=2">Older' in first
    second = text(admin.get("/secretariat/alerts?state=PT&page=2"))
    assert _rows(second) == [world.clinician.full_name] and "page 2 of 2" in second and "Older" not in second


@pytest.mark.parametrize("query, field", [("?state=DE", "state"), ("?state=france", "state"),
                                          ("?unacknowledged=perhaps", "unacknowledged"), ("?page=0", "page")])
def test_a_bad_filter_is_shown_next_to_its_field(pages, two_alerts, query, field):
    page = pages.client("secretariat").get(f"/secretariat/alerts{query}")
    assert page.status_code == 422
    assert field_error(text(page), f"e-{field}")
    assert len(_rows(text(page))) == 2  # the unfiltered first page


@pytest.mark.parametrize("who, status", [("board_ie", 403), ("hub_ie", 403), ("clinician", 403)])
def test_only_the_secretariat_reads_the_alerts_page(pages, who, status):
    assert pages.client(who).get("/secretariat/alerts").status_code == status
    anonymous = pages.client().get("/secretariat/alerts")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
