"""Remake `docs/dashboard.png`, the README's picture of the dashboard: `pal demo` in a temporary
folder, `pal dashboard --out --now` from its database as of the demo's last simulated day (noon,
local time: the picture is the same from one run to the next), and the overview photographed in
headless Chromium (Debian's `chromium`, through Playwright, as the browser tests drive it).

    .venv/bin/python docs/screenshot.py [--chromium PATH] [--out docs/dashboard.png]

The picture is of the viewport (1200 x 900 px), not the whole page, so it stays small.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workflow.dashboard.serve import load_site, open_server

HERE = Path(__file__).parent
VIEWPORT = {"width": 1200, "height": 900}


def pal(folder: Path, *args: str) -> str:
    """`pal ARGS` in `folder`, with no setting of the caller's shell (its own database there);
    what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAL_")}
    return subprocess.run([sys.executable, "-m", "workflow", *args], cwd=folder, env=env,
                          check=True, stdout=subprocess.PIPE, text=True).stdout  # fmt: skip


def last_day(said: str) -> str:
    """The demo's last simulated day, from its first line (`... simulated to 2026-12-17`)."""
    found = re.search(r"simulated to (\d{4}-\d\d-\d\d)", said)
    if found is None:
        raise SystemExit("pal demo did not say the day it simulated to")
    return found[1]


@contextmanager
def served(site: Path) -> Iterator[str]:
    """The site served on 127.0.0.1 by `pal dashboard --serve`'s server; its URL."""
    with open_server(0) as server:
        server.site = load_site(site)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.url
        finally:
            server.shutdown()
            thread.join()


def photograph(url: str, chromium: str, out: Path) -> None:
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url, wait_until="load")
            page.screenshot(path=str(out))
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=os.environ.get("PAL_TEST_CHROMIUM")
                        or "/usr/bin/chromium", help="the Chromium binary")  # fmt: skip
    parser.add_argument("--out", type=Path, default=HERE / "dashboard.png")
    given = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pal-screenshot-") as name:
        folder = Path(name)
        print("running pal demo (a minute or so)...")
        end = last_day(pal(folder, "demo"))
        pal(folder, "dashboard", "--out", "site", "--now", f"{end}T12:00")
        with served(folder / "site") as url:
            photograph(url, given.chromium, given.out)
    print(f"{given.out}: {given.out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
