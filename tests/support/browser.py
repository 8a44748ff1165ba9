"""The console in a real browser: Debian's Chromium, headless, driven by Selenium through
Debian's chromedriver (one browser for the whole session), and `mailroom web` as a real
process on a free port of 127.0.0.1.

Fixtures: `browser` (session; cookies and logs cleared before each test), `live_console`
(the site's `mailroom --config … web`, stopped with SIGTERM: it must exit 0 with no
traceback). `add_web_user` makes a user through the CLI, the password on standard input.
A missing chromium or chromedriver fails the test (scripts/setup --servers installs them).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from support.postgres import free_port
from support.process import Mailroom
from support.web import Site

CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's chromium-driver: matches Debian's chromium
DESKTOP = (1280, 900)
WAIT = 10.0  # seconds a page or a download may take before a test gives up


def chromium_binary() -> str:
    found = shutil.which("chromium")
    if not found or not Path(CHROMEDRIVER).exists():
        pytest.fail("Chromium or chromedriver is missing: run scripts/setup --servers "
                    "(apt-get install chromium chromium-driver)")
    return found


def start_chromium(downloads: Path, size: tuple[int, int] = DESKTOP) -> webdriver.Chrome:
    """Headless Chromium whose downloads land in `downloads`, its console log readable."""
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", f"--window-size={size[0]},{size[1]}",
                     "--lang=zh-CN"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(30)
    return driver


@dataclass
class Browser:
    driver: webdriver.Chrome
    downloads: Path
    base: str = ""  # the live console's URL (set by `live_console`)

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    @property
    def path(self) -> str:
        """The current URL without the console's base (path and query)."""
        url: str = self.driver.current_url
        return url.removeprefix(self.base)

    def text(self) -> str:
        body: str = self.driver.find_element(By.TAG_NAME, "body").text
        return body

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def click(self, element: WebElement) -> None:
        """Click a form's button or a link and wait for the page it leads to."""
        old = self.find("html")
        element.click()
        WebDriverWait(self.driver, WAIT).until(lambda _: _stale(old))
        WebDriverWait(self.driver, WAIT).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def console_messages(self) -> list[dict[str, Any]]:
        """What the page logged to the console since the last call (CSP violations are
        SEVERE entries)."""
        return list(self.driver.get_log("browser"))

    def responses(self) -> list[dict[str, Any]]:
        """Network.responseReceived events since the last call: what the browser got
        (url, status, headers, resourceType "Document" | "Stylesheet" | …) for each."""
        found = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.responseReceived":
                params = message["params"]
                found.append({**params["response"], "resourceType": params.get("type")})
        return found

    def download(self, pattern: str, timeout: float = WAIT) -> Path:
        """The downloaded file matching `pattern` (a glob), once Chromium has written it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in self.downloads.glob(pattern) if p.stat().st_size > 0]
            if len(done) == 1 and not list(self.downloads.glob("*.crdownload")):
                return done[0]
            time.sleep(0.05)
        raise AssertionError(f"{pattern} not downloaded; the folder holds "
                             f"{sorted(p.name for p in self.downloads.iterdir())}")

    def reset(self) -> None:
        """A fresh start for the next test: no cookies, no pending logs, no downloads."""
        self.driver.get("about:blank")
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.driver.get_log("browser")
        self.driver.get_log("performance")
        for leftover in self.downloads.iterdir():
            leftover.unlink()
        self.base = ""


def _stale(element: WebElement) -> bool:
    """Whether the page holding `element` has been replaced."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    return False


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    downloads = tmp_path_factory.mktemp("downloads")
    driver = start_chromium(downloads)
    try:
        yield Browser(driver, downloads)
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browser]:
    chromium.reset()
    yield chromium
    chromium.reset()


def set_listen(config: Path, address: str) -> None:
    """Put `listen = address` into the config's [web] table (made when there is none)."""
    text = config.read_text(encoding="utf-8")
    line = f'listen = "{address}"'
    if "web" not in tomllib.loads(text):
        text = text.rstrip("\n") + f"\n\n[web]\n{line}\n"
    else:
        header = re.search(r"^\[web\][ \t]*\n", text, re.M)
        assert header is not None
        body, rest = _table_body(text[header.end():])
        body = re.sub(r"^listen\s*=.*\n?", "", body, flags=re.M)
        text = text[:header.end()] + line + "\n" + body + rest
    config.write_text(text, encoding="utf-8")
    assert tomllib.loads(text)["web"]["listen"] == address


def _table_body(text: str) -> tuple[str, str]:
    """The lines of a TOML table up to the next table header, and the rest."""
    following = re.search(r"^\[", text, re.M)
    cut = following.start() if following else len(text)
    return text[:cut], text[cut:]


def add_web_user(config: Path, name: str, password: str, role: str = "office") -> None:
    """`mailroom web user add NAME --role ROLE`, the password on standard input (what the
    CLI reads when it is not a terminal)."""
    done = subprocess.run(
        [sys.executable, "-m", "mailroom", "--config", str(config), "web", "user", "add",
         name, "--role", role],
        input=password + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr


def log_in(browser: Browser, name: str, password: str) -> None:
    """Through the login form, as a person would: type, press the button."""
    browser.open("/login")
    form = browser.find("form[action*='/login']")
    form.find_element(By.NAME, "name").send_keys(name)
    form.find_element(By.NAME, "password").send_keys(password)
    browser.click(form.find_element(By.CSS_SELECTOR, "button[type=submit], button:not([type])"))


@dataclass
class LiveConsole:
    url: str
    process: Mailroom
    config: Path


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_console(config: Path, timeout: float = 30.0) -> LiveConsole:
    """`mailroom --config CONFIG web` on a free port, once it answers /login."""
    port = free_port()
    set_listen(config, f"127.0.0.1:{port}")
    process = Mailroom(config, "web")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while not answers(url + "/login"):
        if process.process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"mailroom web did not answer on {url}: {process.err}")
        time.sleep(0.1)
    return LiveConsole(url, process, config)


def stop_console(console: LiveConsole) -> None:
    """SIGTERM, as systemd stops it: a clean exit, no traceback."""
    try:
        console.process.signal(signal.SIGTERM)
        code = console.process.wait(timeout=30)
    finally:
        console.process.kill()
    assert code == 0, console.process.err
    assert "Traceback" not in console.process.err + console.process.out, console.process.err


@pytest.fixture
def live_console(site: Site) -> Iterator[LiveConsole]:
    """The site's console as a real `mailroom web` process (`site`: tests/support/web.py)."""
    console = start_console(site.config)
    try:
        yield console
    finally:
        stop_console(console)
