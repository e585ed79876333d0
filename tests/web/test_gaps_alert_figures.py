"""The secretariat's figure "Alerts sent late" counts an alert recorded more than three days after its decision."""

from __future__ import annotations

import csv
import io

from .conftest import d, text


def test_alerts_sent_late_counts_a_late_suspension(pages, world, client):
    fr_licence = world.make_licence(world.other_clinician, "FR-B", number="FR-2221-0007")
    for licence, who, body in (
        (world.licence, "board_ie", {"action": "suspend", "decided_on": d(-5).isoformat(), "reason": "inquiry"}),
        (fr_licence, "board_fr", {"action": "restrict", "decided_on": d(-3).isoformat(), "reason": "review",
                                  "scope": "no night shifts"}),
    ):
        r = client.post(f"/api/v1/licences/{licence}/events", json=body, headers=world.h(who))
        assert r.status_code == 201, r.get_json()
    admin = pages.client("secretariat")
    data = admin.get("/secretariat/figures/alerts-late.csv")
    assert data.status_code == 200 and data.mimetype == "text/csv"
    rows = {row["state"]: row for row in csv.DictReader(io.StringIO(text(data)))}
    assert rows == {"IE": {"state": "IE", "alerts": "1", "on_time": "0", "late": "1"},
                    "FR": {"state": "FR", "alerts": "1", "on_time": "1", "late": "0"}}
    page = text(admin.get("/secretariat/figures"))
    assert "Alerts sent late" in page
