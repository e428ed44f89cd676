"""Test-only: load a page in headless Chromium and report console errors, failed or external
requests, and a screenshot, through the DevTools protocol over a pipe (no extra packages).

Chromium with ``--remote-debugging-pipe`` reads protocol commands on file descriptor 3 and writes
replies and events on descriptor 4, one JSON message per NUL-terminated record.

:func:`ensure_chromium` finds Debian's ``chromium``, installing it with apt-get when it is missing
and we are root (once, under a file lock, so that parallel test workers do not race); it returns
``(path, None)`` or ``(None, reason)``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-sync", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-pipe"]
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium() -> tuple[str | None, str | None]:
    """Chromium's path, installing Debian's package if needed; or ``(None, why not)``."""
    path = find_chromium()
    if path:
        return path, None
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, "chromium is not installed and installing it needs root (apt-get)"
    if not shutil.which("apt-get"):
        return None, "chromium is not installed and there is no apt-get to install it"
    lock = Path(tempfile.gettempdir()) / "emgame-chromium-install.lock"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # parallel test workers: one installs, the rest wait
        try:
            path = find_chromium()
            if path:
                return path, None
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            log = ""
            for cmd in (["apt-get", "install", "-y", "-q", "chromium"],
                        ["apt-get", "update", "-q"],
                        ["apt-get", "install", "-y", "-q", "chromium"]):
                try:
                    res = subprocess.run(cmd, capture_output=True, text=True, env=env,
                                         timeout=900)
                except (OSError, subprocess.TimeoutExpired) as exc:
                    log = str(exc)
                    continue
                log = (res.stdout + res.stderr)[-600:]
                path = find_chromium()
                if path:
                    return path, None
            return None, f"chromium could not be installed with apt-get: {log.strip()}"
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class PageLoad:
    """What loading a page gave: console errors, uncaught exceptions, log errors (failed
    loads), requests other than ``file:``/``data:``, and a PNG screenshot."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    loaded: bool = False

    @property
    def errors(self) -> list[str]:
        return (self.console_errors + self.exceptions + self.log_errors
                + [f"external request: {u}" for u in self.external_requests]
                + [f"failed request: {u}" for u in self.failed_requests])


class _Pipe:
    def __init__(self, proc: subprocess.Popen, write_fd: int, read_fd: int) -> None:
        self.proc = proc
        self.write_fd = write_fd
        self.read_fd = read_fd
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []
        self.sel = selectors.DefaultSelector()
        self.sel.register(read_fd, selectors.EVENT_READ)

    def _read(self, deadline: float) -> dict | None:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                return None
            if not self.sel.select(min(left, 0.5)):
                continue
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                return None
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self.next_id += 1
        msg: dict = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply is None:
                raise TimeoutError(f"no reply to {method}")
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, name: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == name for e in self.events):
            return True
        while True:
            ev = self._read(deadline)
            if ev is None:
                return False
            self.events.append(ev)
            if ev.get("method") == name:
                return True

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (ev := self._read(deadline)) is not None:
            self.events.append(ev)


def load_page(chromium: str, page: Path, *, width: int = 1280, height: int = 2000,
              settle: float = 1.0, timeout: float = 60) -> PageLoad:
    """Open ``page`` (a local file) in headless Chromium; collect errors and a screenshot."""
    import fcntl as _fcntl

    cmd_r, cmd_w = os.pipe()  # we write commands; Chromium reads them on fd 3
    ev_r, ev_w = os.pipe()    # Chromium writes on fd 4; we read
    hi_cmd = _fcntl.fcntl(cmd_r, _fcntl.F_DUPFD, 10)
    hi_ev = _fcntl.fcntl(ev_w, _fcntl.F_DUPFD, 10)

    def child_fds() -> None:
        os.dup2(hi_cmd, 3)
        os.dup2(hi_ev, 4)

    profile = tempfile.mkdtemp(prefix="emgame-chromium-")
    proc = subprocess.Popen(
        [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=child_fds)
    for fd in (cmd_r, ev_w, hi_cmd, hi_ev):
        os.close(fd)
    pipe = _Pipe(proc, cmd_w, ev_r)
    out = PageLoad()
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)
        session = pipe.send("Target.attachToTarget", {"targetId": target["targetId"],
                                                      "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        out.loaded = pipe.wait_event("Page.loadEventFired", timeout)
        pipe.drain(settle)
        shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)
        out.screenshot = base64.b64decode(shot["data"])
        for ev in pipe.events:
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                               "assert"):
                out.console_errors.append(" ".join(str(a.get("value", a.get("description")))
                                                   for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                out.exceptions.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.log_errors.append(str(params["entry"].get("text")))
            elif method == "Network.requestWillBeSent":
                url = params.get("request", {}).get("url", "")
                if not url.startswith(("file:", "data:", "about:")):
                    out.external_requests.append(url)
            elif method == "Network.loadingFailed":
                out.failed_requests.append(str(params.get("errorText")))
        try:
            pipe.send("Browser.close", timeout=5)
        except (TimeoutError, RuntimeError, OSError):
            pass
    finally:
        for fd in (cmd_w, ev_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(profile, ignore_errors=True)
    return out


def pixel_spread(png: bytes) -> tuple[float, int]:
    """``(standard deviation of grey levels, number of distinct colours)`` of a PNG."""
    import io

    import numpy as np
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    a = np.asarray(img, dtype=float)
    grey = a.mean(axis=2)
    colours = len(np.unique(a.reshape(-1, 3)[::7], axis=0))
    return float(grey.std()), colours
