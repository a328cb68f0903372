"""The committed notebooks as a student sees them after a clone: opened in a real JupyterLab,
untrusted, in Chromium. Every graph must show as a decoded PNG (JupyterLab shows no SVG from
an untrusted notebook), never as the text ``<autograd.Graph ...>``, and the explorer must
show its final frame as a picture (an untrusted notebook runs no script).

The server runs offline on localhost with a token; everything in JupyterLab that phones home
(news, update checks, the PyPI extension manager) is switched off, and any request the page
makes beyond the server fails the test.
"""

from __future__ import annotations

import contextlib
import html
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser import missing

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPLORED = ["01_chain_rule.ipynb", "02_sigmoid_neuron.ipynb"]  # they step through a pass in the explorer
OPENED = [*EXPLORED, "10_recurrent.ipynb"]  # 10: folded drawings of an unrolled recurrent net
TOKEN = "chainrule-test-token"
STARTUP_SECONDS = 120  # a loaded 2-core machine took 25 s
OFFLINE_SETTINGS = {  # JupyterLab's own settings: never ask about news, never check for updates
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}

# For each cell, what its outputs show: visible decoded images (of every output carrying a PNG,
# a graph's or a plot's, and of each explorer's final frame), the explorers' still pictures
# (their alt text, the final caption), the outputs' text and their buttons and inputs.
CELL_PICTURES = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => {
    const visible = image => {
        const box = image.getBoundingClientRect(), style = getComputedStyle(image);
        return image.complete && image.naturalWidth > 0 && box.width > 0 && box.height > 0
            && style.visibility !== 'hidden' && style.display !== 'none';
    };
    const outputs = Array.from(cell.querySelectorAll('.jp-OutputArea-output'));
    return {
        images: outputs.flatMap(output => Array.from(output.querySelectorAll('img'))).filter(visible).length,
        stills: Array.from(cell.querySelectorAll('.jp-RenderedHTML img.cr-still')).filter(visible)
            .map(image => image.alt),
        text: outputs.map(output => output.textContent).join('\\n'),
        controls: outputs.flatMap(output => Array.from(output.querySelectorAll('button, input'))).length,
    };
})"""


def expected_pictures(path: Path) -> list[tuple[int, list[str]]]:
    """Per cell of the notebook file: how many pictures it must show, and each explorer's final caption."""
    expected = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        images, stills = 0, []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            markup = "".join(data.get("text/html", ""))
            if "image/png" in data or "image/svg+xml" in data:  # a plot, or a graph (which must have both)
                images += 1
            elif "data-chainrule-explorer" in markup:
                images += 1
                stills.append(html.unescape(re.search(r'class="cr-caption"[^>]*>(.*?)</p>', markup).group(1)))
        expected.append((images, stills))
    return expected


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def jupyterlab(root: Path, home: Path) -> Iterator[str]:
    """A JupyterLab server on localhost serving ``root``; its address (without the token)."""
    if importlib.util.find_spec("jupyterlab") is None:
        missing("JupyterLab is not installed (pip install jupyterlab; it is in the test extra)")
    for name, settings in OFFLINE_SETTINGS.items():
        (home / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / name).write_text(json.dumps(settings), encoding="utf-8")
    port = _free_port()
    address = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"),
                   "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
                   "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
                   "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "IPYTHONDIR": str(home / "ipython")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
               "--LabApp.news_url=None",  # no announcements feed
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]  # no PyPI queries
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=root)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(f"{address}/api/status?token={TOKEN}"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start: {(home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield address
    finally:
        shutdown = urllib.request.Request(f"{address}/api/shutdown", method="POST",
                                          headers={"Authorization": f"token {TOKEN}"})
        with contextlib.suppress(urllib.error.URLError, OSError):
            urllib.request.urlopen(shutdown, timeout=10).close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def wait_until(page, condition: str, seconds: float = 30) -> None:
    """Wait for a JavaScript ``condition``; the assertions that follow say what is wrong if it never holds."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(condition) and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser) -> Iterator[str]:
    """A server over copies of the notebooks (JupyterLab may write checkpoints beside them)."""
    root = tmp_path_factory.mktemp("notebooks")
    for name in OPENED:
        shutil.copy(NOTEBOOKS / name, root / name)
    with jupyterlab(root, tmp_path_factory.mktemp("jupyter-home")) as address:
        yield address


@pytest.mark.parametrize("name", OPENED)
def test_an_untrusted_notebook_shows_every_graph_as_a_picture(browser, lab, name):
    expected = expected_pictures(NOTEBOOKS / name)
    assert sum(images for images, _ in expected) >= 4  # the notebook does draw graphs
    if name in EXPLORED:
        assert sum(len(stills) for _, stills in expected) >= 1  # and steps through one with the explorer
    with browser.watched(lambda url: url.startswith(f"{lab}/"), width=1300, height=900) as page:
        # A workspace of its own: JupyterLab would otherwise reopen the notebooks of earlier tests.
        page.goto(f"{lab}/lab/workspaces/{Path(name).stem}/tree/{name}?reset&token={TOKEN}")
        cell_count = "document.querySelectorAll('.jp-Notebook .jp-Cell').length"
        page.wait_for_function(f"{cell_count} === {len(expected)}", timeout=60_000)
        for k, (images, _) in enumerate(expected):
            if images:  # scrolled to, as a reader does (JupyterLab skips drawing cells out of view)
                cell = f"document.querySelectorAll('.jp-Notebook .jp-Cell')[{k}]"
                page.evaluate(f"{cell}.scrollIntoView()")
                wait_until(page, f"Array.from({cell}.querySelectorAll('.jp-OutputArea-output img'))"
                                 f".filter(i => i.complete && i.naturalWidth > 0).length >= {images}")
        shown = page.evaluate(CELL_PICTURES)
        untrusted_svg = page.locator(".jp-Notebook .jp-RenderedSVG").count()
    assert not [cell["text"] for cell in shown if "<autograd.Graph" in cell["text"]]
    assert untrusted_svg == 0  # untrusted: JupyterLab refused every SVG, so the PNGs are what shows
    assert [(cell["images"], cell["stills"]) for cell in shown] == expected
    assert sum(cell["controls"] for cell in shown) == 0  # without its script, no dead explorer buttons
