"""The annotation flow in real headless Chromium (Debian's chromium + chromium-driver, via Selenium):
log in, answer with the keyboard, undo, and resolve a disagreement."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from helpers.annotate_helpers import MARKUP_TITLE, make_store, running_server

from intentkg.annotate.app import create_app
from intentkg.annotate.labels import final_labels

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="Debian's chromium and chromium-driver are not installed (make setup installs them)")


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never download anything
    profile = tempfile.mkdtemp(prefix="intentkg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _keys(driver, text: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    for key in text:
        ActionChains(driver).send_keys(key).perform()


def _wait_for(driver, condition, timeout: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _login(driver, base: str, token: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "token").send_keys(token + Keys.ENTER)
    _wait_for(driver, lambda d: d.find_elements(By.ID, "who"))


def _submit_with_keys(driver, keys: str, mode: str = "annotate") -> None:
    from selenium.webdriver.common.keys import Keys

    _keys(driver, keys)
    _keys(driver, Keys.ENTER)
    _wait_for(driver, lambda d: "msg=stored" in d.current_url)


def test_annotate_undo_and_resolve_in_chromium(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    store, _, tokens = make_store(tmp_path, n=1)
    with running_server(create_app(store)) as base:
        # ann1: the markup in the title is shown as text, never run
        _login(browser, base, tokens["ann1"])
        browser.get(f"{base}/annotate")
        assert browser.find_element(By.ID, "product").text == MARKUP_TITLE
        assert browser.find_elements(By.CSS_SELECTOR, "#product b, #product script") == []
        assert "current" in browser.find_element(By.ID, "q-completeness").get_attribute("class")
        _keys(browser, "yn")
        assert "current" in browser.find_element(By.ID, "q-informativeness").get_attribute("class")
        _keys(browser, Keys.BACKSPACE)  # step back and change the relevance answer
        _submit_with_keys(browser, "yyyy")
        assert [a.values for a in store.answers()] == [dict.fromkeys(
            ("completeness", "relevance", "informativeness", "plausibility", "typicality"), True)]
        assert browser.find_element(By.ID, "done")  # nothing left for ann1
        _keys(browser, "u")  # undo the last answer: the item comes back
        _wait_for(browser, lambda d: "msg=undone" in d.current_url)
        assert store.answers() == [] and browser.find_element(By.ID, "tail").text == "winter camping 0"
        _submit_with_keys(browser, "yyyyy")

        # ann2 disagrees on typicality; the page shows nothing of ann1's answer
        _login(browser, base, tokens["ann2"])
        browser.get(f"{base}/annotate")
        assert browser.find_elements(By.CSS_SELECTOR, "input:checked") == []
        _submit_with_keys(browser, "yyyyn")

        # the resolver sees both answers for the disputed question only, and settles it with one key
        _login(browser, base, tokens["res"])
        browser.get(f"{base}/resolve")
        assert [f.get_attribute("id") for f in browser.find_elements(By.CSS_SELECTOR, "fieldset.q")] == ["q-typicality"]
        assert "annotator 1: yes" in browser.page_source and "annotator 2: no" in browser.page_source
        _submit_with_keys(browser, "n", mode="resolve")
    label = final_labels(store.answers())["c000"]
    assert label.status == "resolved" and label.values["typicality"] is False and label.resolver == "res"
