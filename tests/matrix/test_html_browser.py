"""The HTML matrix page in a real headless Chromium: filters, the details panel, and that no payload runs.

Needs Debian's /usr/bin/chromium and /usr/bin/chromedriver and the selenium
package; skipped with the reason otherwise. Set CONFORMANCE_SCREENSHOT=PATH to
also save a screenshot there (of the page for docs/results/results-cuda-*.jsonl
when those files exist, else of the test page).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conformance.matrix import build
from conformance.matrix_html import render_html
from conformance.resultset import read_runs

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,900")
REPO = Path(__file__).resolve().parents[2]

# an element is seen when it takes up room and is not visibility:hidden
VISIBLE = """return Array.from(document.querySelectorAll(arguments[0])).filter(function (e) {
  return e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden"; }).length;"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    for program in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(program) and os.access(program, os.X_OK)):
            pytest.skip(f"{program} is not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def open_page(driver, path: Path, matrix) -> None:
    path.write_text(render_html(matrix), encoding="utf-8")
    driver.get(path.as_uri())


def visible(driver, selector: str) -> int:
    return driver.execute_script(VISIBLE, selector)


def choose(driver, name: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element("id", f"f-{name}")).select_by_value(value)


def only_statuses(driver, keep: set[str]) -> None:
    for box in driver.find_elements("css selector", "input[name=status]"):
        if box.is_selected() != (box.get_attribute("value") in keep):
            box.click()


def shown_checks(driver) -> int:
    return int(driver.find_element("id", "shown").get_attribute("data-shown-checks"))


def test_filters_hide_the_cells_rows_columns_and_sections_that_do_not_match(browser, hostile, tmp_path):
    matrix = build(read_runs([hostile.path]))
    open_page(browser, tmp_path / "page.html", matrix)
    cells = matrix.cells.items()
    assert visible(browser, "td.c") == len(matrix.cells) and shown_checks(browser) == len(matrix.cells)

    choose(browser, "framework", "numpy")
    assert visible(browser, "td.c") == sum(1 for (_, c), _ in cells if c.framework == "numpy")
    assert visible(browser, "th.m") == sum(1 for c in matrix.columns if c.framework == "numpy")
    assert visible(browser, "section.op") == len({r.op for (r, c) in matrix.cells if c.framework == "numpy"})
    choose(browser, "framework", "")

    choose(browser, "op", "softmax_cross_entropy")
    assert visible(browser, "td.c") == sum(1 for (r, _), _ in cells if r.op == "softmax_cross_entropy")
    assert visible(browser, "section.op") == 1
    choose(browser, "op", "")

    choose(browser, "dtype", "float64")
    assert visible(browser, "td.c") == sum(1 for (_, c), _ in cells if c.dtype == "float64")
    choose(browser, "dtype", "")

    only_statuses(browser, {"fail"})
    failing = [(r, c) for (r, c), cell in cells if cell.status == "fail"]
    assert visible(browser, "td.c") == len(failing) == shown_checks(browser)
    assert visible(browser, "section.op tbody tr") == len({r for r, _ in failing})
    assert visible(browser, "th.m") == len({c for _, c in failing})
    choose(browser, "framework", "torch")
    assert visible(browser, "td.c") == sum(1 for _, c in failing if c.framework == "torch")

    browser.find_element("id", "f-reset").click()
    assert visible(browser, "td.c") == len(matrix.cells)


def test_a_click_on_a_cell_shows_the_worst_element_and_the_message(browser, hostile, tmp_path):
    open_page(browser, tmp_path / "page.html", build(read_runs([hostile.path])))
    assert not browser.find_element("id", "details").is_displayed()
    cell = browser.execute_script("""return Array.from(document.querySelectorAll("td.c.s-fail")).find(function (td) {
        return td.parentNode.querySelector("th").textContent.indexOf("evil-") === 0; });""")
    cell.click()
    panel = browser.find_element("id", "details")
    assert panel.is_displayed()
    text = panel.text
    for shown in (repr(hostile.worst["expected"]), repr(hostile.worst["actual"]), "numpy.sigmoid_ce", "float32",
                  "numerical-error", "derived", hostile.payload):
        assert shown in text, shown
    browser.find_element("id", "details-close").click()
    assert not panel.is_displayed()


def test_an_aggregated_cell_lists_its_checks_worst_first(browser, hostile, tmp_path):
    matrix = build(read_runs([hostile.path]), rows="op")
    open_page(browser, tmp_path / "page.html", matrix)
    browser.find_element("css selector", "td.c.s-error").click()
    text = browser.find_element("id", "details").text
    (cell,) = [c for c in matrix.cells.values() if c.status == "error"]
    assert f"Over its {len(cell.checks)} checks" in text and cell.ulp.worst in text
    rows = browser.find_elements("css selector", "#details table.checks tr")
    assert len(rows) == len(cell.checks) + 1 and "error" in rows[1].text


def test_no_string_from_the_results_runs_as_script(browser, hostile, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    open_page(browser, tmp_path / "page.html", build(read_runs([hostile.path])))
    for td in browser.find_elements("css selector", "td.c"):
        td.click()  # the details panel copies every message, case id and binding into the page
    assert browser.execute_script("return typeof window.alerted") == "undefined"
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is what raises
    assert hostile.payload in browser.find_element("id", "matrix").text
    shot = tmp_path / "matrix.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 0
    if os.environ.get("CONFORMANCE_SCREENSHOT"):
        save_screenshot(browser, Path(os.environ["CONFORMANCE_SCREENSHOT"]), shot, tmp_path)


def save_screenshot(driver, target: Path, fallback: Path, tmp_path: Path) -> None:
    """Save a screenshot of the matrix of the committed H100 results (a failing cell open) to ``target``."""
    files = sorted((REPO / "docs" / "results").glob("results-cuda-*.jsonl"))
    if not files:
        shutil.copyfile(fallback, target)
        return
    open_page(driver, tmp_path / "h100.html", build(read_runs(files)))
    cell = driver.find_element("css selector", "td.c.s-fail")
    driver.execute_script('arguments[0].scrollIntoView({block: "center"})', cell)
    cell.click()
    driver.save_screenshot(str(target))
