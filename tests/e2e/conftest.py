"""End-to-end fixtures: the app served over real HTTP on 127.0.0.1, driven by Debian's headless Chromium.

The server runs in a thread of the test process (werkzeug's threaded server) on the same database as the
`app` fixture, so the tables are emptied after each test as everywhere else, and it runs once per backend
(SQLite, and PostgreSQL when REGISTRY_TEST_DATABASE_URL is set). Chromium is launched once per session
with Playwright; `playwright install` is never needed.

Without /usr/bin/chromium (or Playwright) these tests are skipped and the summary says so; with
REGISTRY_TEST_REQUIRE_BROWSER=1 (CI sets it) a missing browser fails them instead.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from registry.app import create_app
from registry.core.auth import Account
from registry.core.db import db

CHROMIUM = os.environ.get("REGISTRY_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REGISTRY_TEST_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-gpu",
                 "--disable-extensions", "--no-first-run", "--disable-sync", "--metrics-recording-only",
                 "--disable-component-update", "--disable-default-apps", "--mute-audio"]
HERE = Path(__file__).parent
SCREENSHOTS = HERE / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "e2e-test-password"
# Accounts here get a cheap PBKDF2 hash (the sign-in checks it like any other): every scrypt check costs a
# fifth of a second on a small machine, and the suite signs in dozens of times.
FAST_HASH = "pbkdf2:sha256:1000"
T = date.today()


def d(days: int) -> date:
    return T + timedelta(days=days)


def _browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright not installed (.venv/bin/pip install -e '.[dev]')"
    return None


_skipped: dict[str, Any] = {"count": 0, "reason": None}


def _is_e2e(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _browser_missing()
    if reason is None or REQUIRE_BROWSER:
        return  # with REQUIRE_BROWSER the `browser` fixture fails each test instead
    marker = pytest.mark.skip(reason=f"e2e browser tests SKIPPED: {reason}")
    for item in items:
        if _is_e2e(item):
            item.add_marker(marker)
            _skipped["count"] += 1
    _skipped["reason"] = reason


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _skipped["count"]:
        terminalreporter.write_sep("=", "e2e browser tests SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(f"e2e browser tests SKIPPED: {_skipped['reason']}; "
                                    f"{_skipped['count']} tests in tests/e2e did not run.", yellow=True, bold=True)


# --- the browser -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    reason = _browser_missing()
    if reason is not None:
        pytest.fail(f"{reason}, and REGISTRY_TEST_REQUIRE_BROWSER=1 requires the e2e browser tests to run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# --- the server --------------------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    app: Any
    failures: list[str] = field(default_factory=list)  # 5xx answers and exceptions, checked after each test


@pytest.fixture(scope="session")
def live_server(backend, tmp_path_factory) -> Iterator[Server]:
    """The app on a free port of 127.0.0.1, on the backend's database (built by the migrations)."""
    holder: dict[str, Any] = {}

    def wsgi(environ, start_response):
        request = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"

        def start(status, headers, exc_info=None):
            if status[:1] == "5":
                server.failures.append(f"{request} answered {status}")
            return start_response(status, headers, exc_info)

        try:
            return holder["app"](environ, start)
        except Exception as exc:  # propagated under TESTING; the test fails on it after the page shows a 500
            server.failures.append(f"{request} raised {exc!r}")
            raise

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    http = make_server("127.0.0.1", 0, wsgi, threaded=True)
    base_url = f"http://127.0.0.1:{http.server_port}"
    holder["app"] = create_app({
        "TESTING": True,
        "ENV_NAME": "test",
        "SQLALCHEMY_DATABASE_URI": backend[1],
        "BASE_URL": base_url,  # certificate and QR links point at this server
        "VERIFY_RATE_PER_MINUTE": 0,  # one address (127.0.0.1) verifies many times
        "WEB_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
    })
    server = Server(base_url=base_url, app=holder["app"])
    thread = threading.Thread(target=http.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield server
    http.shutdown()
    thread.join(timeout=10)
    http.server_close()
    with server.app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- pages -------------------------------------------------------------------------------------------------


@dataclass
class Site:
    """Browser pages on the live server: one browser context (its own cookies) per person."""

    server: Server
    browser: Any
    backend: str
    problems: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def page(self, email: str | None = None, password: str = PASSWORD):
        """A new page in a fresh context, signed in through the form (typed, submitted with Enter) if asked."""
        context = self.browser.new_context(base_url=self.base_url, viewport=DESKTOP, locale="en-GB",
                                           accept_downloads=True)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: self._console(m, page))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e} ({page.url})"))
        page.on("response", self._subresource)
        page.on("requestfailed", self._failed)
        if email is not None:
            sign_in(page, email, password)
        return page

    def _console(self, message, page) -> None:
        # A refused style or image (the Content-Security-Policy) is a console error. "Failed to load resource"
        # is left to _subresource, which knows the URL; pages answer 4xx on purpose (forms, forbidden pages).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text} ({page.url})")

    def _subresource(self, response) -> None:
        """A style sheet, image or script that does not load (Chromium's own /favicon.ico request aside)."""
        request = response.request
        if response.status >= 400 and request.resource_type not in ("document", "other") \
                and not request.url.endswith("/favicon.ico"):
            self.problems.append(f"{request.resource_type} {request.url} answered {response.status}")

    def _failed(self, request) -> None:
        if request.resource_type != "document":  # a download ends its navigation as net::ERR_ABORTED
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def shoot(self, page, name: str) -> None:
        """Screenshots at desktop width and at 390 px, and no horizontal scrolling at 390 px."""
        viewport = page.viewport_size
        if self.backend == "sqlite":  # the same pages on PostgreSQL would only overwrite them
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 390.5
                         && (!e.closest('.scroll') || getComputedStyle(e).position === 'absolute'))
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""")
        if self.backend == "sqlite":
            page.screenshot(path=str(SCREENSHOTS / f"{name}-390.png"), full_page=True)
        page.set_viewport_size(viewport)
        assert width <= PHONE["width"], f"{name}: the page scrolls sideways at 390 px ({width} px wide): {wide}"


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in as with a keyboard: fill the labelled e-mail field, Tab to the password, Enter to submit."""
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-password"
    page.keyboard.insert_text(password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)


@pytest.fixture
def site(live_server, browser, backend, app) -> Iterator[Site]:
    """Pages on the live server; after the test, no server error and no browser console error happened.

    Asking for `app` makes the tables be emptied after the test (see tests/conftest.py).
    """
    live_server.failures.clear()
    s = Site(server=live_server, browser=browser, backend=backend[0])
    yield s
    for context in s.contexts:
        context.close()
    problems = live_server.failures + s.problems
    assert not problems, "during the test: " + "; ".join(problems)


# --- data: the tests' small compact, with passwords, a course and an agreement ----------------------------


@pytest.fixture
def compact(world, app):
    """The shared `world` (IE, FR, PT; boards, hubs, a licensed Irish nurse) with a password on every account,
    TRAUMA-ITLS accredited at IE-HUB with a past cohort, and an Ireland–France agreement for nurses."""
    from curricula import services as curricula
    from registry.recognition import services as recognition

    with app.app_context():
        fast_passwords(PASSWORD)
        hub = curricula.get_hub("IE-HUB")
        course = curricula.create_course(
            code="TRAUMA-ITLS", titles={"en": "Joint trauma life support"}, fallback_language="en",
            description=None, competencies=["haemorrhage control"], cpd_hours=8, validity_months=24,
            professions=["2221"], owners=[{"hub": "IE-HUB"}], actor=None)
        curricula.grant_accreditation(course, hub=hub, granted_by="IE", valid_from=d(-400), valid_until=None,
                                      actor=None)
        offering = curricula.create_offering(hub, course=course, starts_on=d(-20), ends_on=d(-18), language="en",
                                             place="Dublin", capacity=10, actor=None)
        recognition.create_agreement(
            code="IE-FR", title="Ireland–France nurses", states=["IE", "FR"], professions=["2221"],
            in_force_from=d(-500), in_force_until=None, required_courses=[], language_level=None,
            adaptation_months=0, validity_months=12, decision_deadline_days=30, silence_is_approval=False)
        db.session.commit()
        world.offering_id = offering.id
    return world


def fast_passwords(password: str) -> None:
    """Every account signs in with `password`, checked against a cheap hash (see FAST_HASH)."""
    password_hash = generate_password_hash(password, method=FAST_HASH)
    for account in db.session.query(Account).all():
        account.password_hash = password_hash
    db.session.commit()


def email(who: str) -> str:
    """The e-mail address of one of the world's accounts (see tests/conftest.py)."""
    return f"{who}@test.example"
