"""Merging two records of one person: who may, what moves, what the old number leads to, what is refused."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from registry.core.audit import AuditEvent
from registry.core.auth import Account, Role
from registry.core.db import db
from tests.conftest import audit_count, auth, count, problem


def _duplicate(world, **overrides):
    """A second record of the world's clinician (same name, birth date, home state), registered knowingly."""
    c = world.clinician
    data = {"family_name": c.family_name, "given_names": c.given_names, "date_of_birth": c.date_of_birth,
            "not_duplicate_of": [c.registry_number]}
    data.update(overrides)
    return world.make_clinician(c.home_state_code, **data)


def _merge(client, world, survivor, merged, who="board_ie", reason="same passport number, PA1234567"):
    number = merged if isinstance(merged, str) else merged.registry_number
    return client.post(f"/api/v1/clinicians/{survivor.registry_number}/merges",
                       json={"merged": number, "reason": reason}, headers=world.h(who))


def _pointing_at(app, clinician_id: int) -> dict[str, int]:
    """Rows of every table that still name this clinician (foreign keys and the access log)."""
    found = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name in ("clinicians", "clinician_merges"):
                continue
            for column in table.columns:
                if column.name == "clinician_id" or any(fk.column.table.name == "clinicians"
                                                        for fk in column.foreign_keys):
                    n = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(column == clinician_id))
                    if n:
                        found[f"{table.name}.{column.name}"] = n
    return found


def test_a_board_merges_a_duplicate_and_its_number_leads_to_the_survivor(client, world, app):
    dup = _duplicate(world)
    dup_licence = world.make_licence(dup, "FR-B", number="FR-2221-0099")
    # the FR board reads the duplicate's standing: an access-log row about it
    assert client.get(f"/api/v1/clinicians/{dup.registry_number}/standing",
                      headers=world.h("board_fr")).status_code == 200
    assert _pointing_at(app, dup.id) == {"licences.clinician_id": 1, "access_log.clinician_id": 1}
    events = audit_count(app)

    r = _merge(client, world, world.clinician, dup)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["merged"] == dup.registry_number and body["survivor"] == world.clinician.registry_number
    assert body["organisation"] == "IE-B" and body["reason"] == "same passport number, PA1234567"
    assert body["moved"] == {"access_log": 1, "licences": 1}

    # nothing names the merged record any more; two audit events (the survivor's and the merged record's)
    assert _pointing_at(app, dup.id) == {}
    assert audit_count(app) == events + 2
    with app.app_context():
        merge_event = db.session.execute(sa.select(AuditEvent.object_id, AuditEvent.changes)
                                         .where(AuditEvent.action == "clinician.merge")).one()
    assert merge_event.object_id == world.clinician.registry_number
    assert merge_event.changes["merged"] == dup.registry_number
    assert merge_event.changes["moved"]["licences"] == [dup_licence]

    # the old number leads to the survivor: the record, the standing (with both licences), right to practise
    r = client.get(f"/api/v1/clinicians/{dup.registry_number}", headers=world.h("board_fr"))
    assert r.status_code == 200 and r.get_json()["registry_number"] == world.clinician.registry_number
    standing = client.get(f"/api/v1/clinicians/{dup.registry_number}/standing", headers=world.h("board_fr"))
    assert standing.status_code == 200
    numbers = sorted(lic["number"] for lic in standing.get_json()["licences"])
    assert numbers == ["FR-2221-0099", "IE-2221-0001"]
    assert standing.get_json()["clinician"]["registry_number"] == world.clinician.registry_number

    # search: the old number finds the survivor; a name search lists the person once
    found = client.get("/api/v1/clinicians", query_string={"q": dup.registry_number}, headers=world.h("board_ie"))
    assert [c["registry_number"] for c in found.get_json()["items"]] == [world.clinician.registry_number]
    found = client.get("/api/v1/clinicians", query_string={"q": world.clinician.family_name},
                       headers=world.h("board_ie"))
    assert [c["registry_number"] for c in found.get_json()["items"]] == [world.clinician.registry_number]

    # the survivor's merges, for the clinician themself too
    r = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/merges", headers=world.h("clinician"))
    assert r.status_code == 200
    assert [(m["merged"], m["organisation"]) for m in r.get_json()] == [(dup.registry_number, "IE-B")]
    assert client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/merges",
                      headers=world.h("other_clinician")).status_code == 403

    # registering the person again points at the survivor only
    c = world.clinician
    r = client.post("/api/v1/clinicians", headers=world.h("board_ie"), json={
        "family_name": c.family_name, "given_names": c.given_names, "date_of_birth": c.date_of_birth.isoformat(),
        "sex": "female", "nationality": "IE", "home_state_code": "IE"})
    assert r.status_code == 409 and problem(r)["existing"] == [c.registry_number]


def test_who_may_merge(client, world, app):
    dup = _duplicate(world)
    before = count(app, "clinician_merges"), audit_count(app)
    assert _merge(client, world, world.clinician, dup, who="anonymous").status_code == 401
    for who in ("hub_ie", "clinician"):
        assert _merge(client, world, world.clinician, dup, who=who).status_code == 403, who
    # a board of another state may not merge IE records
    r = _merge(client, world, world.clinician, dup, who="board_fr")
    assert r.status_code == 403 and "IE" in problem(r)["detail"]
    assert (count(app, "clinician_merges"), audit_count(app)) == before
    # anonymous: 401 whether or not the number exists
    ghost = client.post("/api/v1/clinicians/ZZZ/merges", json={"merged": "x", "reason": "abc"})
    assert ghost.status_code == 401
    assert _merge(client, world, world.clinician, dup, who="secretariat").status_code == 201


def test_a_board_may_not_merge_a_record_of_another_home_state_but_the_secretariat_may(client, world, app):
    dup = world.make_clinician("FR", family_name=world.clinician.family_name,
                               given_names=world.clinician.given_names)
    r = _merge(client, world, world.clinician, dup, who="board_ie")
    assert r.status_code == 403 and "FR" in problem(r)["detail"]
    assert _merge(client, world, world.clinician, dup, who="board_fr").status_code == 403
    r = _merge(client, world, world.clinician, dup, who="secretariat")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["organisation"] == "SEC"
    record = client.get(f"/api/v1/clinicians/{dup.registry_number}", headers=world.h("board_ie")).get_json()
    assert (record["registry_number"], record["home_state_code"]) == (world.clinician.registry_number, "IE")


def test_bad_input_writes_nothing(client, world, app):
    dup = _duplicate(world)
    before = count(app, "clinician_merges"), audit_count(app)
    url = f"/api/v1/clinicians/{world.clinician.registry_number}/merges"
    cases = [
        ({"merged": dup.registry_number}, 422),                                        # no reason
        ({"merged": dup.registry_number, "reason": ""}, 422),                          # empty reason
        ({"merged": dup.registry_number, "reason": "x" * 501}, 422),                   # too long
        ({"merged": dup.registry_number, "reason": "same", "extra": 1}, 422),          # unknown field
        ({"merged": 12, "reason": "same person"}, 422),                                # not a string
        ({"merged": "not-a-number", "reason": "same person"}, 404),                    # malformed number
        ({"merged": world.clinician.registry_number, "reason": "same person"}, 422),   # itself
    ]
    for body, status in cases:
        r = client.post(url, json=body, headers=world.h("board_ie"))
        assert r.status_code == status, (body, r.get_json())
        problem(r)
    r = client.post("/api/v1/clinicians/AAA-AAA-AAA/merges", json={"merged": dup.registry_number,
                                                                   "reason": "same person"},
                    headers=world.h("board_ie"))
    assert r.status_code == 404
    assert (count(app, "clinician_merges"), audit_count(app)) == before


def test_a_merged_record_cannot_be_merged_again_and_chains_lead_to_the_last_survivor(client, world, app):
    first = _duplicate(world)
    second = _duplicate(world, not_duplicate_of=[world.clinician.registry_number, first.registry_number])
    assert _merge(client, world, first, second).status_code == 201
    # second is merged: naming it either way is a conflict that names where it went
    r = _merge(client, world, world.clinician, second)
    assert r.status_code == 409 and problem(r)["survivor"] == first.registry_number
    r = _merge(client, world, second, world.clinician)
    assert r.status_code == 409
    # first (holding second) merged into the world's clinician: second's number now leads there too
    assert _merge(client, world, world.clinician, first).status_code == 201
    for number in (first.registry_number, second.registry_number):
        r = client.get(f"/api/v1/clinicians/{number}", headers=world.h("board_ie"))
        assert r.get_json()["registry_number"] == world.clinician.registry_number
    merges = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/merges",
                        headers=world.h("board_ie")).get_json()
    assert sorted(m["merged"] for m in merges) == sorted([first.registry_number, second.registry_number])
    assert {m["survivor"] for m in merges} == {world.clinician.registry_number}


def test_sign_in_accounts(client, world, app):
    # both records have an active account: refused, every reason listed, nothing written
    dup = _duplicate(world)
    with app.app_context():
        account = Account(email="dup@test.example", display_name="dup", role=Role.CLINICIAN, clinician_id=dup.id)
        db.session.add(account)
        db.session.commit()
        dup_headers = auth(account)
        dup_account_id = account.id
    before = count(app, "clinician_merges"), audit_count(app)
    r = _merge(client, world, world.clinician, dup)
    assert r.status_code == 409
    assert [u["condition"] for u in problem(r)["unmet"]] == ["one_account"]
    assert (count(app, "clinician_merges"), audit_count(app)) == before

    # merged the other way round, the survivor (dup) has an account and so has the merged: still refused
    assert _merge(client, world, dup, world.clinician).status_code == 409

    # the duplicate's account deactivated: the merge goes ahead and that account stays with the merged record
    r = client.patch(f"/api/v1/accounts/{dup_account_id}", json={"active": False}, headers=world.h("secretariat"))
    assert r.status_code == 200, r.get_json()
    assert _merge(client, world, world.clinician, dup).status_code == 201
    with app.app_context():
        assert db.session.get(Account, dup_account_id).clinician_id == dup.id
    assert client.get("/api/v1/me", headers=dup_headers).status_code == 401


def test_the_duplicates_account_moves_when_the_survivor_has_none(client, world, app):
    lone = world.make_clinician("IE", family_name="Nolan", given_names="Aoife")
    # other_clinician's account moves to `lone`, which has none
    r = _merge(client, world, lone, world.other_clinician)
    assert r.status_code == 201 and r.get_json()["moved"] == {"accounts": 1}
    r = client.get(f"/api/v1/clinicians/{lone.registry_number}", headers=world.h("other_clinician"))
    assert r.status_code == 200 and r.get_json()["family_name"] == "Nolan"


def test_standing_as_on_a_date_and_right_to_practise_by_the_old_number(client, world, app):
    dup = _duplicate(world)
    world.make_licence(dup, "IE-B2", number="IE2-2221-7", issued=date(2020, 1, 1))
    assert _merge(client, world, world.clinician, dup, who="board_ie2").status_code == 201
    r = client.get("/api/v1/right-to-practise", query_string={"clinician": dup.registry_number, "state": "IE",
                                                               "profession": "2221"},
                   headers=world.h("board_ie"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["clinician"] == world.clinician.registry_number
