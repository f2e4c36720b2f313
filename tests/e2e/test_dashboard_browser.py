"""The dashboard in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium) against `vmpool serve` with lab hosts, a VM being
live-migrated, a host in maintenance and a plan. It logs in as a person would, checks the
figures the page shows against the API's, and saves a screenshot (`dashboard.png` in the
test's tmp_path; with VMPOOL_DASHBOARD_SCREENSHOT=1 also docs/img/dashboard.png)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import Daemon, start_daemon, wait_until
from tests.integration.conftest import wipe_lab_domains
from tests.support.html_tree import Element, parse
from vmpool.api.ui_format import gib, mib, number
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab

# Debian's packages; /usr/bin/chromium is a wrapper script, the browser is this. No driver
# is ever downloaded: the Service names the system's chromedriver.
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DOCS_IMG = Path(__file__).parents[2] / "docs" / "img" / "dashboard.png"
WIDTH = 1360
POLL_S = 0.05  # WebDriverWait's checks (its default, 0.5 s, loses a quarter second a wait)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, f"{missing}: install chromium and chromium-driver (scripts/install.sh)"
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WIDTH},900", "--lang=en-GB", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def dashboard_daemon(daemon_env: dict[str, str], tmp_path: Path) -> Iterator[Daemon]:
    # Load samples every second, so that the page has measured CPU load to show soon.
    env = {**daemon_env, "VMPOOL_METRICS_INTERVAL_S": "1"}
    d = start_daemon(env, tmp_path)
    yield d
    # A load sample of the migration's target waits on libvirt until the host call deadline
    # (20 s), and a graceful stop waits for it: this daemon is disposable, so not that long.
    d.proc.terminate()
    try:
        d.proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        d.proc.kill()
        d.proc.wait(timeout=10)


def _json(c: httpx.Client, path: str, **params: Any) -> Any:
    r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _snapshot(browser: WebDriver) -> Element:
    """What the page shows now, read at once (the page replaces it every few seconds)."""
    html = browser.find_element(By.ID, "dashboard").get_attribute("innerHTML")
    assert html
    return parse(html)


def _loads(browser: WebDriver) -> int:
    return int(browser.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") or 0)


def test_the_dashboard_in_a_browser_shows_what_the_api_says(
    dashboard_daemon: Daemon, lab: list[LabHost], tiny_image: GuestImage, browser: WebDriver,
    tmp_path: Path,
) -> None:  # fmt: skip
    daemon = dashboard_daemon
    try:
        with daemon.client() as c:
            hosts = []
            for h in lab[:3]:
                r = c.post("/v1/hosts", json=h.registration())
                assert r.status_code == 201, r.text
                hosts.append(r.json())
            one, two, spare = hosts
            assert c.post(f"/v1/hosts/{spare['id']}/maintenance").status_code == 202
            # A guest that keeps dirtying memory: at 2 MiB/s its migration stays in flight.
            vms = [
                {"name": "mover", "vcpus": 1, "memory_mib": 192, "image": tiny_image.name,
                 "kernel_args": ["vmpool.dirty_mib=48"], "hosts": [one["name"]]},
                {"name": "idle-1", "vcpus": 2, "memory_mib": 64, "hosts": [two["name"]]},
                {"name": "idle-2", "vcpus": 1, "memory_mib": 96, "hosts": [one["name"]]},
            ]  # fmt: skip
            made = []
            for body in vms:
                r = c.post("/v1/vms", json=body)
                assert r.status_code == 201, r.text
                made.append(r.json())
            r = c.post("/v1/pools/1/plans", json={})
            assert r.status_code == 201, r.text
            plan = r.json()
            # (before the migration: while one runs, sampling its target waits on libvirt)
            wait_until(
                "load samples",
                lambda: all(
                    _json(c, f"/v1/hosts/{h['id']}/metrics")["cpu_usage_avg"] is not None
                    for h in (one, two)
                ),
                30,
            )
            r = c.post(f"/v1/vms/{made[0]['id']}/migrate",
                       json={"target_host_id": two["id"], "bandwidth_mib_s": 2})  # fmt: skip
            assert r.status_code == 202, r.text
            mid = r.json()["id"]

            def copying() -> bool:
                m = _json(c, f"/v1/migrations/{mid}")
                return bool(m["state"] == "running" and (m["data_processed"] or 0) > 0)

            wait_until("the migration to copy", copying, 60)

            # Log in as a person would: a wrong token first.
            browser.get(f"{daemon.url}/ui")
            # Refresh every second rather than every 5 s: the test waits for one below.
            browser.execute_script("document.body.dataset.refreshS = '1'")
            token_input = browser.find_element(By.ID, "token")
            assert token_input.is_displayed()
            token_input.send_keys("vmp_wrong")
            browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
            error = browser.find_element(By.ID, "login-error")
            WebDriverWait(browser, 10, poll_frequency=POLL_S).until(lambda _: error.text)
            assert error.text == "invalid token"
            assert "vmp_wrong" not in browser.current_url
            token_input.send_keys(daemon.token)
            browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
            WebDriverWait(browser, 15, poll_frequency=POLL_S).until(lambda b: _loads(b) >= 1)
            assert browser.find_element(By.ID, "dashboard").is_displayed()
            assert not browser.find_element(By.ID, "login").is_displayed()
            assert daemon.token not in browser.current_url
            # The token is in this tab's sessionStorage only: no cookie, nothing in localStorage.
            assert browser.get_cookies() == []
            assert browser.execute_script("return window.localStorage.length") == 0
            stored = browser.execute_script("return sessionStorage.getItem('vmpool.token')")
            assert stored == daemon.token

            # The meters are drawn (laid out with a size), the figures read from the page.
            meter = browser.find_element(By.CSS_SELECTOR, "#utilisation meter")
            assert meter.size["width"] > 20 and meter.size["height"] > 5
            first = _loads(browser)
            page = _snapshot(browser)

            for host in hosts:
                api = _json(c, f"/v1/hosts/{host['id']}")
                row = page.find("section", id="utilisation").find("tr", data_host=api["name"])
                cells = {td["data-field"]: td for td in row.find_all("td", data_field=True)}
                assert cells["vm_count"].text() == str(api["vm_count"])
                for field, fmt in (("vcpus", number), ("memory_mib", mib), ("disk_gib", gib)):
                    used, capacity = api["allocated"][field], api["capacity"][field]
                    shown = cells[field].find("span", **{"class": "figure"}).text()
                    assert shown == f"{fmt(used)} / {fmt(capacity)}", (api["name"], field)
                    assert float(cells[field].find("meter")["value"]) == used
                listed = _json(c, "/v1/vms", host_id=host["id"])["items"]
                card = page.find("div", **{"class": "host"}, data_host=api["name"])
                names = [li["data-vm"] for li in card.find_all("li", data_vm=True)]
                assert names == [v["name"] for v in listed]
            assert page.find("div", **{"class": "host"}, data_host=two["name"]).find(
                "li", data_incoming="mover"
            )
            # one's allocation: mover (1 vCPU, 192 MiB) and idle-2 (1, 96); two's: idle-1 and
            # the migration's claim for mover.
            utilisation = page.find("section", id="utilisation")
            one_row = utilisation.find("tr", data_host=one["name"])
            assert "2 / " in one_row.find("td", data_field="vcpus").text()
            assert "288 MiB / " in one_row.find("td", data_field="memory_mib").text()
            assert "256 MiB / " in utilisation.find("tr", data_host=two["name"]).text()

            attention = page.find("section", id="attention")
            flagged = {
                r["data-host"]: r["data-state"] for r in attention.find_all("tr", data_host=True)
            }
            assert flagged == {spare["name"]: "maintenance"}

            row = page.find("section", id="migrations").find("tr", data_migration=str(mid))
            assert row["data-state"] == "running"
            assert f"mover {one['name']} → {two['name']}" in row.text()
            shown_plan = page.find("tr", data_plan=str(plan["id"]))
            assert shown_plan.find("td", data_field="score_before").text() == (
                f"{plan['score_before']:.4f}"
            )
            assert shown_plan.find("td", data_field="score_after").text() == (
                f"{plan['score_after']:.4f}"
            )
            assert page.find("p", data_count="vms").text() == "3"
            assert page.find("p", data_count="migrations").text() == "1"

            # The page refreshes itself.
            WebDriverWait(browser, 15, poll_frequency=POLL_S).until(lambda b: _loads(b) > first)

            # A migration's progress and the measured load move: reload until the page and
            # the API read the same figures (the token survives a reload: it is the tab's).
            matched: set[str] = set()
            for attempt in range(12):
                if attempt:
                    seen = _loads(browser)
                    browser.refresh()
                    WebDriverWait(browser, 15, poll_frequency=POLL_S).until(
                        lambda b, s=seen: _loads(b) not in (0, s)
                    )
                page = _snapshot(browser)
                m = _json(c, f"/v1/migrations/{mid}")
                load = _json(c, f"/v1/hosts/{one['id']}/metrics")["cpu_usage_avg"]
                row = page.find("tr", data_migration=str(mid))
                progress = row.find("progress")
                if (int(progress["value"]), int(progress["max"])) == (
                    m["data_processed"], m["data_total"],
                ):  # fmt: skip
                    share = round(100 * m["data_processed"] / m["data_total"])
                    assert f"{share}%" in row.text()
                    matched.add("migration")
                row = page.find("section", id="utilisation").find("tr", data_host=one["name"])
                cell = row.find("td", data_field="cpu_load")
                if cell.get("data-used") is not None and float(cell["data-used"]) == load:
                    assert cell.text() == f"{round(100 * load)}%"
                    matched.add("load")
                if matched == {"migration", "load"}:
                    break
            else:
                raise AssertionError(f"only {matched} ever matched the API")

            _screenshot(browser, tmp_path / "dashboard.png")
            c.post(f"/v1/migrations/{mid}/cancel")
    finally:
        wipe_lab_domains(lab)


def _screenshot(browser: WebDriver, path: Path) -> None:
    """The whole page, beyond the window (Chromium's DevTools protocol)."""
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 10_000
    if os.environ.get("VMPOOL_DASHBOARD_SCREENSHOT") == "1":
        DOCS_IMG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG)
