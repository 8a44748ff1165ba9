"""The console in a real browser (headless Chromium through Selenium, tests/support/browser.py)
against `mailroom web` running as a process on the sample month: the login form, the
session cookie as the browser keeps it, the security headers the browser receives and the
Content-Security-Policy it enforces, a phone's width, and the office's work from the month
to the downloaded XLSX."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from sqlalchemy import select

from mailroom.daemon import poll_once
from mailroom.store.models import Decision, Submission
from support.browser import Browser, LiveConsole, add_web_user, log_in, start_console, stop_console
from support.items import CORRECTED_TEXT, CORRECTED_TITLE
from support.mail import deliver, make_mail
from support.web import Site, copied_site

# a user of our own, made through the CLI (the sample site has 刘婧 and 伍庭利 already)
CLERK, PASSWORD = "王芳", "早上好-信息报送-2019"
MONTH = "2019-05"
CST = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def clerk_site(sample_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site with a user of ours made through the CLI, once for this module."""
    folder = tmp_path_factory.mktemp("clerk-site") / "site"
    shutil.copytree(sample_site, folder)
    add_web_user(folder / "mailroom.toml", CLERK, PASSWORD, role="office")
    return folder


@pytest.fixture
def site(clerk_site: Path, tmp_path: Path) -> Iterator[Site]:
    """A private copy of `clerk_site` (this module's `site`, for `live_console`)."""
    yield from copied_site(clerk_site, tmp_path)


@pytest.fixture(scope="module")
def reading_console(clerk_site: Path, tmp_path_factory: pytest.TempPathFactory,
                    ) -> Iterator[LiveConsole]:
    """One console for the tests that change nothing but their own session."""
    folder = tmp_path_factory.mktemp("reading-site") / "site"
    shutil.copytree(clerk_site, folder)
    console = start_console(folder / "mailroom.toml")
    try:
        yield console
    finally:
        stop_console(console)


@pytest.fixture
def at_console(browser: Browser, reading_console: LiveConsole) -> Browser:
    browser.base = reading_console.url
    return browser


def severe(browser: Browser) -> list[dict[str, Any]]:
    """The console's errors since the last call; the favicon the browser asks for on its own
    is not the page's doing."""
    return [entry for entry in browser.console_messages()
            if entry["level"] == "SEVERE" and "/favicon.ico" not in entry["message"]]


def session_cookies(browser: Browser) -> list[dict[str, Any]]:
    return list(browser.driver.get_cookies())


def test_login_form_wrong_password_then_right_then_logout(at_console: Browser) -> None:
    browser = at_console
    browser.open(f"/?month={MONTH}")
    assert browser.path.startswith("/login"), browser.path  # no session: the login page

    log_in(browser, CLERK, "not-the-password")
    assert browser.path.startswith("/login"), browser.path
    assert "密码" in browser.text()  # the form says what went wrong …
    assert PASSWORD not in browser.driver.page_source
    # the browser notes the 401 answer itself, and nothing else
    assert [e["source"] for e in browser.console_messages()] == ["network"]
    browser.open("/")
    assert browser.path.startswith("/login")  # … and no session came of it

    log_in(browser, CLERK, PASSWORD)
    assert not browser.path.startswith("/login"), browser.text()
    assert CLERK in browser.text()
    cookies = session_cookies(browser)
    assert cookies and all(c["httpOnly"] and c.get("sameSite") in ("Lax", "Strict")
                           for c in cookies), cookies
    # HttpOnly as the browser applies it: the page's scripts cannot read the session
    assert browser.driver.execute_script("return document.cookie") == ""

    browser.click(browser.find("form[action$='/logout'] button"))
    assert browser.path.startswith("/login"), browser.path
    browser.open(f"/?month={MONTH}")
    assert browser.path.startswith("/login"), browser.path
    assert severe(browser) == []


def test_the_browser_gets_the_security_headers_and_enforces_the_csp(
    at_console: Browser,
) -> None:
    browser = at_console
    log_in(browser, CLERK, PASSWORD)
    browser.responses()
    browser.open(f"/?month={MONTH}")
    got = browser.responses()
    page = [r for r in got if r["resourceType"] == "Document"][-1]
    headers = {name.lower(): value for name, value in page["headers"].items()}
    assert page["status"] == 200
    assert headers["x-content-type-options"] == "nosniff"
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy
    styles = [r for r in got if r["resourceType"] == "Stylesheet"]
    assert styles and all(r["status"] == 200 and r["url"].startswith(browser.base)
                          for r in styles), styles  # vendored, no CDN
    assert severe(browser) == []  # no CSP violation in any page of ours

    # the policy holds: a script injected into the page is refused, and says so
    ran = browser.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        "document.head.appendChild(s); return window.injected === 1;")
    assert ran is False
    refused = severe(browser)
    assert any("Content Security Policy" in entry["message"] for entry in refused), refused


def wider_than(browser: Browser, width: int) -> int:
    """How far the page reaches sideways at a phone's `width` (tables scroll inside their
    own box, not the page)."""
    browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        browser.driver.refresh()
        reach: int = browser.driver.execute_script(
            "return document.documentElement.scrollWidth")
    finally:
        browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return reach


def test_a_phone_does_not_scroll_sideways(at_console: Browser) -> None:
    browser = at_console
    browser.open("/login")
    assert wider_than(browser, 390) <= 390
    log_in(browser, CLERK, PASSWORD)
    browser.open(f"/?month={MONTH}")
    assert wider_than(browser, 390) <= 390
    assert severe(browser) == []


# --- the pages of the other areas (the contract's URL map): they must be there -------------

PAGES = [f"/?month={MONTH}", f"/items?month={MONTH}", "/items/201905-0012", "/decide",
         f"/reports?month={MONTH}", "/requests", "/roster", "/outbox"]


def test_every_page_answers_fits_a_phone_and_breaks_no_csp(at_console: Browser) -> None:
    browser = at_console
    log_in(browser, CLERK, PASSWORD)
    browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    found = {}
    try:
        for path in PAGES:
            browser.responses()
            browser.open(path)
            page = [r for r in browser.responses() if r["resourceType"] == "Document"][-1]
            found[path] = (page["status"], browser.driver.execute_script(
                "return document.documentElement.scrollWidth"), severe(browser))
    finally:
        browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert found == {path: (200, 390, []) for path in PAGES}


# --- the office's work, page by page -------------------------------------------------------

@pytest.fixture
def suspected(site: Site) -> str:
    """A corrected re-send of 201905-0011 by another unit: near it, not equal (suspected,
    R3), polled before the console starts. Its number."""
    maildir = Path(site.app.settings.maildir.path)
    deliver(maildir, make_mail(f"不动产登记中心+{CORRECTED_TITLE}", sender="bdcdj@example.cn",
                               body=CORRECTED_TEXT), datetime(2019, 5, 20, 9, 30, tzinfo=CST))
    poll_once(site.app)
    with site.app.sessions() as session:
        number: str = session.scalars(select(Submission.number).where(
            Submission.status == "suspected", Submission.unit == "不动产登记中心")).one()
    return number


@pytest.fixture
def console_with_pair(suspected: str, live_console: LiveConsole, browser: Browser) -> Browser:
    browser.base = live_console.url
    return browser


def numbers(browser: Browser, unit: str) -> list[float]:
    """The figures in the month page's table rows of `unit`, cell by cell."""
    rows = browser.driver.find_elements(
        By.XPATH, f"//tr[*[normalize-space()='{unit}']]/*")
    found = []
    for cell in rows:
        figure = re.fullmatch(r"-?\d+(?:\.\d+)?", cell.text.strip())
        if figure:
            found.append(float(figure.group()))
    assert found, f"no row of {unit} on {browser.path}"
    return found


def pressing(form: WebElement, name: str, value: str) -> WebElement:
    """The button that submits `form` with `name=value`: a button carrying it, or the
    form's submit button once the field (hidden, or a radio to tick) holds it."""
    for button in form.find_elements(By.CSS_SELECTOR, f"button[name='{name}'][value='{value}']"):
        return button
    field = form.find_element(By.CSS_SELECTOR, f"[name='{name}'][value='{value}']")
    if field.get_attribute("type") == "radio":
        field.click()
    return form.find_element(By.CSS_SELECTOR, "button[type=submit], button:not([type])")


def choose(select: WebElement, wanted: str) -> None:
    """Pick the option whose value or text is `wanted`."""
    for option in select.find_elements(By.TAG_NAME, "option"):
        if wanted in (option.get_attribute("value"), option.text.strip()):
            option.click()
            return
    raise AssertionError(f"no option {wanted} in {select.get_attribute('name')}")


def decisions(site: Any, number: str) -> list[tuple[str, str, str]]:
    with site.app.sessions() as session:
        item = session.scalars(select(Submission).where(Submission.number == number)).one()
        return [(d.action, d.by, d.source) for d in session.scalars(
            select(Decision).where(Decision.submission_id == item.id).order_by(Decision.id))]


def status(site: Any, number: str) -> str:
    with site.app.sessions() as session:
        return str(session.scalars(select(Submission.status).where(
            Submission.number == number)).one())


def test_the_office_decides_in_the_browser(site: Any, suspected: str,
                                           console_with_pair: Browser) -> None:
    """Log in, the month, the suspected pair confirmed a duplicate, an item adopted, the
    month's table changed, the bulletin's XLSX downloaded and read, log out."""
    browser = console_with_pair
    log_in(browser, CLERK, PASSWORD)
    browser.open(f"/?month={MONTH}")
    before = numbers(browser, "不动产登记中心")

    # the suspected pair: listed to decide, opened side by side, confirmed
    browser.open("/decide")
    browser.click(browser.find(f"a[href$='/items/{suspected}']"))
    assert browser.path == f"/items/{suspected}"
    assert "201905-0011" in browser.text()  # the first report it is matched with
    review = browser.find(f"form[action$='/items/{suspected}/review']")
    browser.click(pressing(review, "decision", "duplicate"))
    assert status(site, suspected) == "duplicate"
    assert decisions(site, suspected) == [("duplicate", CLERK, "web")]

    # an item of the same unit adopted by the region (自治区, 3 points)
    browser.open("/items/201905-0005")
    adopt = browser.find("form[action$='/items/201905-0005/adopt']")
    choose(adopt.find_element(By.NAME, "channel"), "自治区")
    for note in adopt.find_elements(By.NAME, "note"):
        note.send_keys("自治区政务信息第12期")
    browser.click(adopt.find_element(By.CSS_SELECTOR, "button[type=submit], button:not([type])"))
    assert decisions(site, "201905-0005") == [("adopt", CLERK, "web")]

    browser.open(f"/?month={MONTH}")
    after = numbers(browser, "不动产登记中心")
    assert len(after) == len(before), (before, after)
    changes = [new - old for old, new in zip(before, after, strict=True) if new != old]
    assert 1 in changes and 3 in changes, (before, after)  # one more adopted, 3 more points

    browser.open(f"/reports?month={MONTH}")
    browser.find(f"a[href$='/reports/monthly/{MONTH}.xlsx']").click()
    workbook = openpyxl.load_workbook(browser.download("*.xlsx"), read_only=True)
    adopted = [row for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
               if "201905-0005" in row]
    workbook.close()
    assert adopted and any("自治区" in str(cell) for cell in adopted[0]), adopted

    browser.click(browser.find("form[action$='/logout'] button"))
    assert browser.path.startswith("/login")
    assert severe(browser) == []
