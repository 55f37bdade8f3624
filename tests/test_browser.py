"""A real browser moves a real slider: JupyterLab on localhost, headless Chromium driven by Playwright.

The notebook runs in the ci profile in a scratch copy of the project; the test drags the latent
interpolation slider and asserts that the picture the widget shows changed. The screenshot is kept in
artifacts/test_browser/ (git-ignored). Skipped, with the reason, where Chromium or Playwright is missing
(`.ci/run` installs both when it can: Debian's `chromium` package and `pip install playwright`).
"""
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOTEBOOK = os.environ.get("GANKIT_BROWSER_NOTEBOOK", "03_mnist_mlp_gan.ipynb")
SCREENSHOT = ROOT / "artifacts" / "test_browser" / "interpolation_widget.png"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def scratch_project(tmp_path):
    """notebooks/ copied (the browser saves what it runs); gankit/ and data/ linked, not copied."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / "notebooks" / NOTEBOOK)
    for name in ("gankit", "data"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


@pytest.fixture
def jupyterlab(scratch_project):
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, GANKIT_PROFILE="ci", GANKIT_OFFLINE="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={scratch_project}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start within 60 s")
    yield f"{url}/lab/tree/notebooks/{NOTEBOOK}?token={token}"
    server.terminate()
    server.wait(timeout=30)


def widget_image_src(panel) -> str:
    return panel.locator(".jp-OutputArea-output img").first.get_attribute("src")


def test_moving_the_interpolation_slider_changes_the_picture(jupyterlab):
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(jupyterlab)
        page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext"
                               ".session?.kernel?.status === 'idle'", timeout=120_000)
        # Run All resolves when the last cell has finished (the ci profile keeps it short).
        page.set_default_timeout(300_000)
        page.evaluate("async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function("document.querySelectorAll('.jp-InputPrompt').length > 0 && "
                               "![...document.querySelectorAll('.jp-InputPrompt')]"
                               ".some(p => p.textContent.includes('*'))", timeout=240_000)
        panels = page.locator(".widget-vbox", has=page.locator(".widget-slider"),
                              has_text="slerp")
        panel = panels.first if panels.count() else page.locator(
            ".widget-vbox", has=page.locator(".widget-slider")).first
        panel.scroll_into_view_if_needed()
        before = widget_image_src(panel)
        handle = panel.locator(".widget-slider .noUi-handle").first
        handle.scroll_into_view_if_needed()          # mouse events reach only what is on screen
        box, track = handle.bounding_box(), panel.locator(".widget-slider .noUi-base").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(track["x"] + 0.9 * track["width"], box["y"] + box["height"] / 2, steps=10)
        page.mouse.up()
        page.wait_for_function("([el, old]) => { const img = el.querySelector('.jp-OutputArea-output img');"
                               " return img && img.getAttribute('src') !== old; }",
                               arg=[panel.element_handle(), before], timeout=60_000)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        panel.screenshot(path=str(SCREENSHOT))
        assert widget_image_src(panel) != before
        browser.close()
