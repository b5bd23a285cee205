"""Headless Chromium (Debian's package) for the board tests: the DOM a real
browser builds from a page, and screenshots kept as test artefacts.

Each call starts a fresh browser with its own throwaway profile and every
background service off, so nothing but the page's own address is contacted.
Screenshots go to $COLLABD_ARTEFACTS or build/test-artefacts/ (git-ignored).
"""

import os
import shutil
import subprocess
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ARTEFACTS = os.environ.get("COLLABD_ARTEFACTS", os.path.join(REPO, "build", "test-artefacts"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", "--metrics-recording-only", "--mute-audio",
         "--hide-scrollbars", "--lang=zh-CN"]


def chromium():
    """The browser's path, or None when Debian's chromium is not installed."""
    return shutil.which("chromium")


def _run(args, timeout=60):
    with tempfile.TemporaryDirectory(prefix="collabd-chromium-") as profile:
        p = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                           capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise RuntimeError(f"chromium exited with {p.returncode}: {p.stderr[-2000:]}")
    return p.stdout


def dump_dom(url):
    """The page's DOM after the browser parsed it, serialised as HTML."""
    return _run(["--dump-dom", url])


def screenshot(url, name, width=1280, height=1600):
    """Saves a PNG of the page under the artefacts directory; returns its path."""
    os.makedirs(ARTEFACTS, exist_ok=True)
    path = os.path.join(ARTEFACTS, name)
    if os.path.exists(path):
        os.remove(path)
    _run([f"--screenshot={path}", f"--window-size={width},{height}", url])
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return path
