"""Headless-chromium screenshots of the running app: `python scripts/screenshot.py URL OUT.png [WAIT_CSS]`.

Used to look at pages the way a user does (and for docs/screenshots). Needs chromium + chromedriver.
"""

from __future__ import annotations

import sys
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def shoot(url: str, out: str, wait_css: str | None = None, width: int = 1600, height: int = 1300,
          settle: float = 2.0) -> list[dict]:
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(url)
        if wait_css:
            WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, wait_css)))
        time.sleep(settle)
        total = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, max(height, min(int(total) + 40, 4000)))
        time.sleep(0.5)
        driver.save_screenshot(out)
        return driver.get_log("browser")
    finally:
        driver.quit()


if __name__ == "__main__":
    logs = shoot(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    for entry in logs:
        print(entry.get("level"), entry.get("message")[:300])
