"""Bulk import: a dry run finds every planted fault by row and field; a commit is all or nothing and idempotent."""

import hashlib
import io
import json

import pytest

from registry.people.numbers import check_symbol
from tests.conftest import audit_count, count, problem
from tests.curricula.conftest import d, post_completion

URL = "/api/v1/hubs/IE-HUB/completions/import"
HEADER = "reference,registry_number,course,completed_on,outcome,score,credits"
# Well-formed (right shape and check character) but registered to nobody.
UNKNOWN_RN = "ZZZ-ZZZ-ZZ" + check_symbol("ZZZZZZZZ")


def upload(client, world, data: bytes, *, dry_run: bool = False, who: str = "hub_ie", url: str = URL,
           content_type: str = "text/csv", **query):
    params = {"dry_run": "true" if dry_run else "false", **query}
    qs = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"{url}?{qs}", data=data, content_type=content_type, headers=world.h(who))


def csv_bytes(lines: list[str], *, newline: str = "\n", encoding: str = "utf-8") -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


@pytest.fixture
def planted(client, world, curriculum):
    """A file with two good rows, one already recorded, and one of each fault; returns (bytes, expected faults)."""
    rn, other = world.clinician.registry_number, world.other_clinician.registry_number
    assert post_completion(client, world, reference="EXIST-1", completed_on=d(-40).isoformat()).status_code == 201
    assert post_completion(client, world, reference="EXIST-2", completed_on=d(-41).isoformat(),
                           score=None).status_code == 201
    lines = [
        HEADER,
        f"R-1,{rn},TRAUMA-ITLS,{d(-10)},passed,91,",                 # 2 good
        f"R-2,{other},TRAUMA-ITLS,{d(-11)},failed,40,",              # 3 good
        f"R-3,{UNKNOWN_RN},TRAUMA-ITLS,{d(-12)},passed,,",           # 4 unknown clinician
        f"R-4,{rn},NOPE-101,{d(-13)},passed,,",                      # 5 unknown course
        f"R-5,{rn},EMLOG,{d(-200)},passed,,",                        # 6 not accredited on that date
        f"R-6,{rn},TRAUMA-ITLS,2025-02-30,passed,,",                 # 7 bad date
        f"R-1,{other},TRAUMA-ITLS,{d(-14)},passed,,",                # 8 duplicate within the file
        f"EXIST-1,{rn},TRAUMA-ITLS,{d(-40)},failed,10,",             # 9 conflicting reference
        f"EXIST-2,{rn},TRAUMA-ITLS,{d(-41)},passed,,8",              # 10 already recorded, same data
    ]
    faults = {(4, "registry_number"), (5, "course"), (6, "completed_on"), (7, "completed_on"), (8, "reference"),
              (9, "reference")}
    return csv_bytes(lines), faults


def test_dry_run_finds_every_planted_fault(client, world, app, planted):
    data, faults = planted
    before = count(app, "completions"), audit_count(app)
    r = upload(client, world, data, dry_run=True)
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert {(e["row"], e["field"]) for e in report["errors"]} == faults
    assert report["error_count"] == len(faults)
    assert (report["rows"], report["new"], report["existing"], report["created"]) == (9, 2, 1, 0)
    assert report["dry_run"] is True and report["committed"] is False
    assert report["file_sha256"] == hashlib.sha256(data).hexdigest()
    messages = {(e["row"], e["field"]): e["message"] for e in report["errors"]}
    assert messages[(4, "registry_number")] == f"no clinician {UNKNOWN_RN}"
    assert messages[(5, "course")] == "no course NOPE-101"
    assert messages[(6, "completed_on")] == f"IE-HUB was not accredited for EMLOG on {d(-200)}"
    assert "not a valid date" in messages[(7, "completed_on")]
    assert "row 2" in messages[(8, "reference")]
    assert "differs in: outcome, score, credits" in messages[(9, "reference")]
    assert (count(app, "completions"), audit_count(app)) == before


def test_commit_is_all_or_nothing(client, world, app, planted):
    data, faults = planted
    before = count(app, "completions"), audit_count(app)
    r = upload(client, world, data)
    assert r.status_code == 422
    body = problem(r)
    assert "nothing was written" in body["detail"]
    assert {(e["row"], e["field"]) for e in body["row_errors"]} == faults
    assert (count(app, "completions"), audit_count(app)) == before


def test_commit_then_reupload_creates_nothing_new(client, world, app, curriculum):
    rn, other = world.clinician.registry_number, world.other_clinician.registry_number
    data = csv_bytes([HEADER, f"A-1,{rn},TRAUMA-ITLS,{d(-3)},passed,77.5,",
                      f"A-2,{other},EMLOG,{d(-4)},passed,,3.5", f"A-3,{other},TRAUMA-ITLS,{d(-5)},failed,12,"])
    before = audit_count(app)
    r = upload(client, world, data)
    assert r.status_code == 201, r.get_json()
    report = r.get_json()
    assert (report["created"], report["existing"], report["committed"]) == (3, 0, True)
    assert count(app, "completions") == 3
    assert audit_count(app) == before + 1  # one event for the whole file
    from registry.core.audit import AuditEvent
    from registry.core.db import db

    with app.app_context():
        event = db.session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
        assert event.action == "completion.import" and event.object_id == "IE-HUB"
        assert event.changes["file_sha256"] == hashlib.sha256(data).hexdigest() and event.changes["created"] == 3
    listed = client.get("/api/v1/hubs/IE-HUB/completions", headers=world.h("hub_ie")).get_json()["items"]
    by_ref = {c["reference"]: c for c in listed}
    assert by_ref["A-1"]["score"] == 77.5 and by_ref["A-1"]["credits"] == 8
    assert by_ref["A-2"]["credits"] == 3.5 and by_ref["A-2"]["valid_until"] is None
    assert by_ref["A-3"]["credits"] == 0 and by_ref["A-3"]["status"] == "failed"

    again = upload(client, world, data)
    assert again.status_code == 200
    report = again.get_json()
    assert (report["created"], report["existing"]) == (0, 3)
    assert report["summary"].startswith("nothing new")
    assert count(app, "completions") == 3 and audit_count(app) == before + 1


def test_bom_semicolons_quotes_and_decimal_commas(client, world, app, curriculum):
    rn = world.clinician.registry_number
    data = "\ufeff" + "\r\n".join([
        '"Reference";"Registry number";"Course";"Completed on";"Outcome";"Score"',
        f'"Q;1";"{rn}";"trauma-itls";"{d(-2)}";"Passed";"87,5"',
        f'"Q ""2""";{rn};TRAUMA-ITLS;{d(-3)};passed;',
        "",
    ]) + "\r\n"
    r = upload(client, world, data.encode("utf-8"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["created"] == 2
    refs = {c["reference"]: c["score"] for c in
            client.get("/api/v1/hubs/IE-HUB/completions", headers=world.h("hub_ie")).get_json()["items"]}
    assert refs == {"Q;1": 87.5, 'Q "2"': None}


def test_licence_number_and_board_instead_of_registry_number(client, world, app, curriculum):
    data = csv_bytes(["reference,licence_number,board,course,completed_on,outcome",
                      f"L-1,IE-2221-0001,IE-B,TRAUMA-ITLS,{d(-2)},passed",
                      f"L-2,IE-2221-0001,FR-B,TRAUMA-ITLS,{d(-2)},passed"])
    report = upload(client, world, data, dry_run=True).get_json()
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(3, "licence_number")]
    assert report["new"] == 1


@pytest.mark.parametrize(
    "data, words",
    [
        (csv_bytes([HEADER, "Ré-1,ABC-DEF-GHJ,TRAUMA-ITLS,2025-01-01,passed,,"], encoding="latin-1"), "not UTF-8"),
        ("reference,course\n".encode("utf-16"), "UTF-16"),
        (csv_bytes(["R-1,ABC-DEF-GHJ,TRAUMA-ITLS,2025-01-01,passed"]), "not a header"),
        (csv_bytes([HEADER + ",hub", "R-1,ABC-DEF-GHJ,TRAUMA-ITLS,2025-01-01,passed,,,IE-HUB"]), "unknown column: hub"),
        (csv_bytes(["reference,registry_number,course,outcome", "R-1,ABC-DEF-GHJ,TRAUMA-ITLS,passed"]),
         "missing column: completed_on"),
        (csv_bytes(["reference,course,completed_on,outcome"]), "missing column: registry_number"),
        (b"", "empty"),
        (csv_bytes([HEADER]), "no completions"),
        (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet"),
        (csv_bytes([HEADER, 'R-1,"unterminated']), "cannot be read as CSV"),
    ],
)
def test_unreadable_files_get_a_clear_error(client, world, app, curriculum, data, words):
    before = count(app, "completions"), audit_count(app)
    for dry_run in (True, False):
        r = upload(client, world, data, dry_run=dry_run)
        assert r.status_code == 422, r.get_json()
        assert words in problem(r)["detail"], r.get_json()
    assert (count(app, "completions"), audit_count(app)) == before


def test_size_and_row_limits(client, world, app, curriculum, monkeypatch):
    rn = world.clinician.registry_number
    lines = [HEADER] + [f"S-{i},{rn},TRAUMA-ITLS,{d(-2)},passed,," for i in range(20)]
    data = csv_bytes(lines)
    monkeypatch.setitem(app.config, "CURRICULA_MAX_IMPORT_BYTES", 300)
    r = upload(client, world, data)
    assert r.status_code == 413
    assert "larger than the import limit of 300 bytes" in problem(r)["detail"]
    # Without a Content-Length (chunked), the limit is enforced while reading.
    r = client.post(f"{URL}?dry_run=false", input_stream=io.BytesIO(data), content_type="text/csv",
                    headers={**world.h("hub_ie"), "Transfer-Encoding": "chunked"},
                    environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413, r.get_json()
    monkeypatch.setitem(app.config, "CURRICULA_MAX_IMPORT_BYTES", 20 * 1024 * 1024)
    monkeypatch.setitem(app.config, "CURRICULA_MAX_IMPORT_ROWS", 5)
    r = upload(client, world, data)
    assert r.status_code == 422
    assert "more than 5 rows" in problem(r)["detail"]
    assert count(app, "completions") == 0
    # Above the app's 1 MiB JSON limit, an upload is still accepted up to the import limit.
    monkeypatch.setitem(app.config, "CURRICULA_MAX_IMPORT_ROWS", 100_000)
    big = csv_bytes([HEADER] + [f"BIG-{i:06d},{rn},TRAUMA-ITLS,{d(-2)},passed,,{' ' * 60}" for i in range(20_000)])
    assert len(big) > 1024 * 1024
    r = upload(client, world, big, dry_run=True)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["new"] == 20_000


def test_json_and_multipart_uploads(client, world, app, curriculum):
    rn = world.clinician.registry_number
    items = [{"reference": "J-1", "registry_number": rn, "course": "TRAUMA-ITLS", "completed_on": str(d(-2)),
              "outcome": "passed", "score": 90},
             {"reference": "J-2", "registry_number": rn, "course": "EMLOG", "completed_on": str(d(-3)),
              "outcome": "passed", "credits": 1.5, "offering": None}]
    r = upload(client, world, json.dumps(items).encode(), content_type="application/json")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["created"] == 2 and r.get_json()["format"] == "json"

    data = csv_bytes([HEADER, f"M-1,{rn},TRAUMA-ITLS,{d(-2)},passed,,"])
    r = client.post(f"{URL}?dry_run=true", data={"file": (io.BytesIO(data), "completions.csv")},
                    content_type="multipart/form-data", headers=world.h("hub_ie"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["new"] == 1 and r.get_json()["format"] == "csv"

    bad = [{"reference": "J-3", "registry_number": rn, "course": "TRAUMA-ITLS", "completed_on": str(d(-2)),
            "outcome": "passed", "hub": "X"}, "not an object", {**items[0], "reference": True}]
    report = upload(client, world, json.dumps(bad).encode(), content_type="application/json", dry_run=True).get_json()
    assert {(e["row"], e["field"]) for e in report["errors"]} == {(1, "hub"), (2, "item"), (3, "reference")}


@pytest.mark.parametrize(
    "data, words",
    [
        (b'{"reference": "x"}', "must be an array"),
        (b'[{"reference": "x"', "not valid in item 1"),
        (b'[{"reference": "x"}} ', "expected ',' or ']'"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'[{"score": ' + b"9" * 5000 + b"}]", "number is too long"),
        (b'[{"reference": "a"}] []', "after the closing"),
    ],
)
def test_broken_json_is_a_clear_error(client, world, app, curriculum, data, words):
    r = upload(client, world, data, content_type="application/json", dry_run=True)
    assert r.status_code == 422, r.get_json()
    assert words in problem(r)["detail"]


def test_hostile_values_never_crash(client, world, app, curriculum):
    rn = world.clinician.registry_number
    # json.dumps writes the lone surrogate as the escape "\\ud800", which Python's json reads back as one.
    lone = json.dumps([{"reference": "\ud800", "registry_number": rn, "course": "TRAUMA-ITLS",
                        "completed_on": str(d(-1)), "outcome": "passed"}])
    r = upload(client, world, lone.encode(), content_type="application/json")
    assert r.status_code == 422 and problem(r)["row_errors"][0]["field"] == "reference"
    data = csv_bytes([HEADER, f"N\x00UL,{rn},TRAUMA-ITLS,{d(-1)},passed,nan,inf",
                      f"X,{rn},TRAUMA-ITLS,0001-01-01,passed,1e999,", f"Y,{rn},TRAUMA-ITLS,20250101,maybe,,",
                      f"Z,{rn},TRAUMA-ITLS,{d(-1)},passed,,,extra"])
    r = upload(client, world, data)
    assert r.status_code == 422
    fields = {(e["row"], e["field"]) for e in problem(r)["row_errors"]}
    assert {(2, "reference"), (2, "score"), (2, "credits"), (3, "completed_on"), (3, "score"), (4, "completed_on"),
            (4, "outcome"), (5, "row")} <= fields
    assert count(app, "completions") == 0


def test_only_the_hubs_own_officers_import(client, world, app, planted):
    data, _ = planted
    before = count(app, "completions"), audit_count(app)
    for who in ("hub_pt", "board_ie", "secretariat"):
        assert upload(client, world, data, who=who).status_code == 403
    assert upload(client, world, data, who="anonymous").status_code == 401
    assert upload(client, world, data, url="/api/v1/hubs/IE-B/completions/import").status_code == 404
    assert (count(app, "completions"), audit_count(app)) == before
    r = upload(client, world, data, content_type="application/xml")
    assert r.status_code == 415


def test_ten_thousand_rows_commit(client, world, app, curriculum):
    rns = [world.clinician.registry_number, world.other_clinician.registry_number]
    lines = [HEADER] + [f"BULK-{i:05d},{rns[i % 2]},TRAUMA-ITLS,{d(-1 - i % 700)},passed,{i % 101},"
                        for i in range(10_000)]
    r = upload(client, world, csv_bytes(lines))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["created"] == 10_000
    assert count(app, "completions") == 10_000
    again = upload(client, world, csv_bytes(lines)).get_json()
    assert (again["created"], again["existing"]) == (0, 10_000)


def test_cli_import_dry_run_and_commit(runner, world, app, planted, tmp_path):
    data, faults = planted
    bad = tmp_path / "faulty.csv"
    bad.write_bytes(data)
    before = count(app, "completions")
    result = runner.invoke(args=["completions", "import", str(bad), "--hub", "IE-HUB", "--dry-run"])
    assert result.exit_code == 1, result.output
    for row, field in faults:
        assert f"row {row}, {field}:" in result.output
    assert "6 errors in 9 rows" in result.output
    result = runner.invoke(args=["completions", "import", str(bad), "--hub", "IE-HUB"])
    assert result.exit_code == 1 and "nothing was written" in result.output
    assert count(app, "completions") == before

    rn = world.clinician.registry_number
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([HEADER, f"C-1,{rn},TRAUMA-ITLS,{d(-2)},passed,,", f"C-2,{rn},EMLOG,{d(-2)},passed,,"]))
    result = runner.invoke(args=["completions", "import", str(good), "--hub", "IE-HUB", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run: 2 would be created" in result.output and count(app, "completions") == before
    result = runner.invoke(args=["completions", "import", str(good), "--hub", "IE-HUB"])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and count(app, "completions") == before + 2
    result = runner.invoke(args=["completions", "import", str(good), "--hub", "IE-HUB"])
    assert result.exit_code == 0 and "nothing new" in result.output
    result = runner.invoke(args=["completions", "import", str(good), "--hub", "NOPE"])
    assert result.exit_code == 1 and "no organisation" in result.output and "NOPE" in result.output
