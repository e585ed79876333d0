"""Every main page on the demo data of `make run`, at desktop width and on a 390-px phone screen.

Each page is saved as a screenshot (tests/e2e/screenshots/demo-*.png), must not scroll sideways at 390 px,
has one h1, and labels every field; the keyboard reaches and submits the sign-in form.
"""

from __future__ import annotations

import functools
import re

import pytest
from playwright.sync_api import expect
from werkzeug.security import generate_password_hash

from registry.core import auth
from registry.demo import DEMO_PASSWORD, load_demo

from .conftest import FAST_HASH


@pytest.fixture
def demo(site, backend, monkeypatch):
    """The demo data, loaded by the served app: its certificates name this server as their issuers' home.

    Layout does not depend on the database, and the journeys run on both: the tour runs on SQLite only.
    """
    if backend[0] != "sqlite":
        pytest.skip("the pages' layout does not depend on the database; the journeys run on PostgreSQL too")
    monkeypatch.setattr(auth, "generate_password_hash", functools.partial(generate_password_hash, method=FAST_HASH))
    with site.server.app.app_context():
        load_demo()


ANY = re.compile(".")  # a page whose h1 wording is not the point here


def check(site, page, name: str, heading: str | re.Pattern) -> None:
    """What every page owes its reader, then the screenshots and the 390-px check."""
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')]
        .filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id || e.outerHTML)""")
    assert unlabelled == [], f"{name}: fields without a label: {unlabelled}"
    assert "Traceback" not in page.content()
    site.shoot(page, f"demo-{name}")


def test_the_main_pages_read_well_on_a_phone_and_a_desktop(site, demo):
    public = site.page()
    public.goto("/")
    check(site, public, "home", ANY)
    public.goto("/sign-in")
    check(site, public, "sign-in", "Sign in")

    # Keyboard: the first Tab shows the skip link, which leads straight to the form; focus is always visible.
    public.keyboard.press("Tab")
    skip = public.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the focused skip link is off screen"
    assert public.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    public.keyboard.press("Enter")
    public.keyboard.press("Tab")
    expect(public.get_by_label("E-mail address")).to_be_focused()
    public.keyboard.type("maria.silva@demo.registry")
    public.keyboard.press("Tab")
    public.keyboard.type("not the password")
    public.keyboard.press("Enter")
    expect(public.get_by_role("alert")).to_contain_text("Signing in did not work")
    expect(public.locator("#e-password")).to_contain_text("wrong password")
    check(site, public, "sign-in-error", "Sign in")

    maria = site.page("maria.silva@demo.registry", DEMO_PASSWORD)
    expect(maria).to_have_url(re.compile("/me$"))
    check(site, maria, "clinician-record", "My record")
    code = maria.locator("section[aria-labelledby=h-certificates] code").first.inner_text().strip()
    public.goto("/verify")
    check(site, public, "verify", "Verify a certificate")
    public.get_by_label("Verification code").fill(code)
    public.keyboard.press("Enter")
    expect(public.locator(".verdict")).to_have_text("VALID")
    check(site, public, "verify-valid", "Verify a certificate")
    public.goto(public.url + "&lang=pt")
    expect(public.locator(".verdict")).to_have_text(re.compile(r"^\s*VÁLIDO\s+VALID\s*$"))
    check(site, public, "verify-valid-pt", "Verificar um certificado")
    maria.goto("/me/recognitions/new")
    check(site, maria, "clinician-apply", ANY)
    maria.goto("/board")
    check(site, maria, "forbidden", re.compile("Forbidden"))

    hub = site.page("hub.ie@demo.registry", DEMO_PASSWORD)
    check(site, hub, "hub", "Dublin Trauma Training Hub")
    hub.get_by_role("link", name=re.compile("Cohort")).first.click()
    check(site, hub, "hub-cohort", ANY)

    board = site.page("board.ie@demo.registry", DEMO_PASSWORD)
    check(site, board, "board-home", "Health Professions Board of Ireland")
    board.get_by_label("Name or registry number").fill("silva")
    board.keyboard.press("Enter")
    check(site, board, "board-search", "Search clinicians")
    board.get_by_role("link", name=re.compile("Silva, Maria")).first.click()
    check(site, board, "board-standing", re.compile("Maria"))
    board.goto("/recognitions")
    check(site, board, "recognition-queue", re.compile("Recognition applications into IE"))
    board.goto("/alerts")
    check(site, board, "board-alerts", "Unacknowledged alerts for IE")
    board.goto("/search?q=murphy")
    board.get_by_role("link", name="Murphy, Aoife").click()
    licences = board.locator("section[aria-labelledby=h-licences] tbody")
    licences.get_by_role("link", name=re.compile(r"licence IE-")).first.click()
    check(site, board, "board-decision", re.compile("Decision on licence IE-"))
    for path, name in [("/board/secondments", "board-secondments"), ("/board/clinicians/new", "board-register"),
                       ("/board/licences/new", "board-issue-licence")]:
        board.goto(path)
        check(site, board, name, ANY)

    portugal = site.page("board.pt@demo.registry", DEMO_PASSWORD)
    portugal.goto("/recognitions")
    expect(portugal.locator("tr.overdue")).not_to_have_count(0)
    check(site, portugal, "recognition-queue-overdue", "Recognition applications into PT")

    admin = site.page("admin@demo.registry", DEMO_PASSWORD)
    check(site, admin, "secretariat", ANY)
    admin.goto("/secretariat/figures")
    expect(admin.locator("main svg")).not_to_have_count(0)
    check(site, admin, "secretariat-figures", "Figures")
    for page in ("agreements", "programmes", "reference", "accounts"):
        admin.goto(f"/secretariat/{page}")
        check(site, admin, f"secretariat-{page}", ANY)
