"""The built documentation, rendered in a real headless browser: no code block or table overflows.

Every built page is opened in Debian's ``chromium`` (driven over the DevTools protocol through
``--remote-debugging-pipe``: no extra Python package, nothing downloaded) at a desktop and at a
phone width, and a script measures every ``<pre>`` and ``<table>``: a failure is one whose
content is wider than its box without a scroll bar (clipped, or spilling out), or whose box is
wider than a container that does not scroll (it runs past the column or the page). Content that
is reachable through a horizontal scroll bar is fine. ``TestChecker`` shows on a small page that
the checker catches each kind of overflow and passes the scrollable and wrapping controls.

Without a browser these tests are a visible skip (``apt-get install chromium``, as ``.ci/run``
does). The same checker runs from the command line on any built site, e.g. to count a build's
overflows before and after a change::

    python tests/test_docs_browser.py docs/_build/html [--screenshot PAGE.html OUT.png]
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest

# (width, height) in CSS pixels: a laptop and a phone
VIEWPORTS = {"desktop": (1280, 900), "phone": (400, 800)}
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = "apt-get install chromium (as .ci/run does), or set PORTABLE_NN_CHROMIUM"

# Runs in the page: one record per visible <pre>/<table> that overflows without a scroll bar.
CHECK_JS = r"""
(async () => {
  if (document.fonts) { await document.fonts.ready; }
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (typeof el.className === 'string' && el.className.trim()
       ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const where = (el) => {
    let section = el.closest('section[id]');
    return section ? '#' + section.id : '';
  };
  const pageWidth = document.documentElement.clientWidth;
  const problems = [];
  let checked = 0, scrollable = 0, hiddenLines = 0;
  for (const el of document.querySelectorAll('pre, table')) {
    if (!el.getClientRects().length) continue;            // not displayed (display: none)
    checked += 1;
    const own = getComputedStyle(el).overflowX;
    const rect = el.getBoundingClientRect();
    // the part of the page where the element can be seen: its own box if it cuts its content,
    // then every container up to the page that does not scroll
    let visibleLeft = 0, visibleRight = pageWidth, culprit = null, kind = null;
    if (el.scrollWidth > el.clientWidth + 1) {
      if (['auto', 'scroll'].includes(own)) { scrollable += 1; }
      else {
        kind = own === 'visible' ? 'spills out of its own box' : 'clips its content';
        culprit = el;
      }
    }
    let box = rect;                                       // what must fit in the next container
    let wrapper = true;       // still in wrappers of this element alone (a table's scroll box)
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const r = a.getBoundingClientRect();
      const left = r.left + a.clientLeft, right = left + a.clientWidth;
      // a scroll bar of its own wrapper, not one that scrolls the whole article with it
      wrapper = wrapper && Array.from(a.children).filter(
        (c) => c.getClientRects().length && !c.matches('button, .copybtn')).length === 1;
      if (scrolls(a) && (wrapper || box.right <= right + 1 && box.left >= left - 1)) {
        if (a.scrollWidth > a.clientWidth + 1) scrollable += 1;
        box = r;
        visibleLeft = Math.max(visibleLeft, left); visibleRight = Math.min(visibleRight, right);
        continue;
      }
      if (!kind && (box.right > right + 1 || box.left < left - 1) && a.clientWidth > 0) {
        kind = 'is wider than its container'; culprit = a;
      }
      if (getComputedStyle(a).overflowX !== 'visible') {
        visibleLeft = Math.max(visibleLeft, left); visibleRight = Math.min(visibleRight, right);
      }
    }
    if (!kind && box.right > pageWidth + 1) {
      kind = 'runs past the page'; culprit = document.body;
    }
    if (!kind && el.tagName === 'TABLE') {      // a cell whose text runs into the next one
      for (const cell of el.querySelectorAll(':scope > * > tr > td, :scope > * > tr > th')) {
        if (cell.scrollWidth > cell.clientWidth + 1 && !scrolls(cell)) {
          kind = 'has a cell whose content spills out of it'; culprit = cell; break;
        }
      }
    }
    visibleRight = Math.min(visibleRight, rect.left + el.clientLeft + el.clientWidth);
    // lines of code that reach past the visible part, or past their own box where that box
    // spills out (monospace: the width of one character times the length of the line)
    let lines = 0, longest = 0;
    if (el.tagName === 'PRE') {
      const probe = document.createElement('span');
      probe.textContent = '0'.repeat(100);
      el.appendChild(probe);
      const charWidth = probe.getBoundingClientRect().width / 100;
      probe.remove();
      const style = getComputedStyle(el);
      const textLeft = rect.left + el.clientLeft + parseFloat(style.paddingLeft);
      for (const line of el.textContent.split('\n')) {
        longest = Math.max(longest, line.length);
        if (textLeft + line.length * charWidth > visibleRight + 1) lines += 1;
      }
    }
    if (!kind) { hiddenLines += lines; continue; }
    const wider = culprit !== el && culprit !== null;
    problems.push({element: name(el), section: where(el), kind: kind, container: name(culprit),
                   width: Math.round(/^T[DH]$/.test(culprit.tagName) ? culprit.scrollWidth
                                     : wider ? box.width : el.scrollWidth),
                   room: Math.round(wider ? culprit.clientWidth : el.clientWidth),
                   lines: lines, longest: longest,
                   text: (/^T[DH]$/.test(culprit.tagName) ? culprit : el)
                           .textContent.trim().slice(0, 60)});
  }
  return {checked: checked, scrollable: scrollable, hiddenLines: hiddenLines,
          problems: problems,
          copyButtons: document.querySelectorAll('button.copybtn').length,
          codeBlocks: document.querySelectorAll('div.highlight pre').length};
})()
"""


def find_browser() -> str | None:
    """The Chromium executable: ``$PORTABLE_NN_CHROMIUM`` or the first of BROWSERS on PATH."""
    chosen = os.environ.get("PORTABLE_NN_CHROMIUM")
    if chosen:
        return chosen
    return next(filter(None, map(shutil.which, BROWSERS)), None)


class BrowserError(RuntimeError):
    """The browser did not start or did not answer."""


class Chromium:
    """A headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, executable: str, timeout: float = 60.0):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="pnn-chromium-")
        # the pipe ends the browser gets, copied above fd 10 (close-on-exec), so that posix_spawn
        # can put them on fds 3 and 4 without clobbering one with the other (no preexec_fn:
        # the test process may have threads, from PyTorch or JAX)
        to_browser, self._send_fd = os.pipe()
        self._recv_fd, from_browser = os.pipe()
        commands = fcntl.fcntl(to_browser, fcntl.F_DUPFD_CLOEXEC, 10)
        answers = fcntl.fcntl(from_browser, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser)
        os.close(from_browser)
        args = [executable, "--headless=new", "--remote-debugging-pipe", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--hide-scrollbars", "--mute-audio", "--disable-background-networking",
                f"--user-data-dir={self._profile}", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses its sandbox as root (CI, containers)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        try:
            self.pid = os.posix_spawn(executable, args, os.environ, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, self._log.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, self._log.fileno(), 2),
                (os.POSIX_SPAWN_DUP2, commands, 3),
                (os.POSIX_SPAWN_DUP2, answers, 4)])
        except OSError:
            for fd in (self._send_fd, self._recv_fd):
                os.close(fd)
            self._log.close()
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        finally:
            os.close(commands)
            os.close(answers)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        self._viewport: tuple[int, int] | None = None
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target,
                                     flatten=True)["sessionId"]
            self.call("Page.enable", session=self.session)
        except BaseException:
            self.close()
            raise

    def log(self) -> str:
        """What the browser printed (for error messages)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._recv_fd], [], [], left)[0]:
                raise BrowserError(f"no answer from the browser within {self.timeout} s\n"
                                   + self.log())
            chunk = os.read(self._recv_fd, 1 << 20)
            if not chunk:
                raise BrowserError("the browser closed the pipe\n" + self.log())
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params):
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._send_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer["result"]
            self._events.append(answer)

    def wait_for(self, event: str) -> dict:
        """Wait for the next ``event`` of the page's session."""
        deadline = time.monotonic() + self.timeout
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event:
                    del self._events[: i + 1]
                    return message
            self._events.append(self._read_message(deadline))

    def open(self, url: str, width: int, height: int) -> None:
        """Load ``url`` at a viewport of ``width`` x ``height`` CSS pixels, until its load event."""
        if self._viewport != (width, height):
            self.call("Emulation.setDeviceMetricsOverride", session=self.session, width=width,
                      height=height, deviceScaleFactor=1, mobile=width < 600)
            self._viewport = (width, height)
        self._events.clear()
        self.call("Page.navigate", session=self.session, url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.call("Runtime.evaluate", session=self.session, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"the script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        """Save the page as a PNG."""
        data = self.call("Page.captureScreenshot", session=self.session, format="png",
                         captureBeyondViewport=full_page)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        """End the browser (this process only) and remove its profile."""
        with contextlib.suppress(OSError):
            os.close(self._send_fd)  # the browser's end of the session: it exits
        deadline = time.monotonic() + 10
        while not os.waitpid(self.pid, os.WNOHANG)[0]:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.05)
        os.close(self._recv_fd)
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def pages_of(html: Path) -> list[Path]:
    """Every built HTML page of a site (not the copied sources)."""
    return sorted(p for p in html.rglob("*.html") if "_sources" not in p.parts)


def check_pages(browser: Chromium, html: Path, pages: list[Path] | None = None,
                viewports: dict[str, tuple[int, int]] = VIEWPORTS) -> dict[str, dict]:
    """Run CHECK_JS on every page at every viewport: ``{"page.html @ desktop": report}``."""
    reports = {}
    for page in pages if pages is not None else pages_of(html):
        for label, (width, height) in viewports.items():
            browser.open(page.resolve().as_uri(), width, height)
            reports[f"{page.relative_to(html)} @ {label}"] = browser.evaluate(CHECK_JS)
    return reports


def describe(reports: dict[str, dict]) -> str:
    """One line per overflowing element, then the totals."""
    lines = []
    for where, report in reports.items():
        for p in report["problems"]:
            lines.append(f"{where}: {p['element']} {p['section']} {p['kind']} "
                         f"({p['container']}): {p['width']}px in {p['room']}px, "
                         f"{p['lines']} lines cut: {p['text']!r}")
    lines.append(summary(reports))
    return "\n".join(lines)


def summary(reports: dict[str, dict]) -> str:
    """The totals: overflowing code blocks, code lines cut, tables, pages; per viewport."""
    out = []
    for label in dict.fromkeys(key.rsplit(" @ ", 1)[1] for key in reports):
        chosen = {k: r for k, r in reports.items() if k.endswith(f" @ {label}")}
        problems = [p for r in chosen.values() for p in r["problems"]]
        blocks = [p for p in problems if p["element"].startswith("pre")]
        out.append(f"{label}: {len(chosen)} pages, "
                   f"{sum(r['checked'] for r in chosen.values())} blocks/tables checked, "
                   f"{sum(r['scrollable'] for r in chosen.values())} scroll "
                   f"({sum(r['hiddenLines'] for r in chosen.values())} code lines reach past "
                   "the visible width, behind a scroll bar, on "
                   f"{sum(1 for r in chosen.values() if r['hiddenLines'])} pages); overflowing: "
                   f"{len(blocks)} code blocks ({sum(p['lines'] for p in blocks)} code lines), "
                   f"{len(problems) - len(blocks)} tables, on "
                   f"{sum(1 for r in chosen.values() if r['problems'])} pages")
    return "\n".join(out)


# A page with each kind of overflow the checker must catch, and controls it must pass.
FIXTURE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
  body { margin: 0; font-family: sans-serif; }
  .column { width: 300px; }
  .column-clip { width: 300px; overflow: hidden; }
  pre { font-family: monospace; margin: 0; }
</style></head><body>
<section id="bad">
  <div class="column"><pre id="clipped" style="overflow: hidden">LONG
short</pre></div>
  <div class="column"><pre id="spills" style="overflow: visible">LONG</pre></div>
  <div class="column"><table id="cell-spills" style="width: 100%; table-layout: fixed"><tr>
    <td><code style="white-space: nowrap">a_long_identifier_that_cannot_wrap</code></td>
    <td>b</td><td>c</td><td>d</td></tr></table></div>
  <div class="column-clip"><pre id="cut-by-container" style="width: max-content">LONG
  </pre></div>
  <div class="column"><table id="wide-table"><tr><td style="white-space: nowrap">LONG</td>
    </tr></table></div>
  <table id="past-page" style="width: 3000px"><tr><td>a very wide table</td></tr></table>
  <div class="column" style="overflow-x: auto"><p>text</p><table id="scrolls-the-column">
    <tr><td style="white-space: nowrap">LONG</td></tr></table></div>
</section>
<section id="good">
  <div class="column"><pre id="scrolls" style="overflow-x: auto">LONG</pre></div>
  <div class="column"><div style="overflow-x: auto"><table id="in-scroller"><tr>
    <td style="white-space: nowrap">LONG</td></tr></table></div></div>
  <div class="column"><table id="wraps"><tr><td>WORDS</td></tr></table></div>
  <div class="column"><pre id="fits">short = 1</pre></div>
  <pre id="hidden" style="display: none">LONG</pre>
</section>
</body></html>
""".replace("LONG", "x = " + "1 + " * 60 + "1").replace("WORDS", "word " * 200)


@pytest.fixture(scope="module")
def browser():
    executable = find_browser()
    if executable is None:
        pytest.skip(f"no Chromium to render the docs in: {INSTALL}")
    with Chromium(executable) as chromium:
        yield chromium


class TestChecker:
    """The checker flags every overflowing block and table of FIXTURE and nothing else."""

    def test_catches_each_overflow_and_passes_the_controls(self, browser, tmp_path):
        page = tmp_path / "fixture.html"
        page.write_text(FIXTURE, encoding="utf-8")
        reports = check_pages(browser, tmp_path, [page], {"desktop": (1280, 900)})
        report = reports["fixture.html @ desktop"]
        found = {p["element"].split(".")[0]: p for p in report["problems"]}
        assert set(found) == {"pre#clipped", "pre#spills", "pre#cut-by-container",
                              "table#wide-table", "table#past-page",
                              "table#scrolls-the-column", "table#cell-spills"}, describe(reports)
        assert found["pre#clipped"]["kind"] == "clips its content"
        assert found["pre#spills"]["kind"] == "spills out of its own box"
        assert found["pre#cut-by-container"]["kind"] == "is wider than its container"
        assert found["table#wide-table"]["kind"] == "is wider than its container"
        assert found["pre#clipped"]["lines"] == 1  # the long line, not "short"
        assert found["pre#clipped"]["section"] == "#bad"
        assert found["table#scrolls-the-column"]["container"] == "div.column"
        assert found["table#cell-spills"]["kind"] == "has a cell whose content spills out of it"
        assert report["checked"] == 11  # the display: none block is not counted
        assert report["scrollable"] >= 2  # pre#scrolls and the table's scroll container


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The documentation built once for the session (shared with tests/test_docs.py)."""
    test_docs = pytest.importorskip("test_docs")  # a visible skip without Sphinx and the theme
    result, html = test_docs.built_site(tmp_path_factory)
    if result.returncode != 0:
        pytest.fail(f"the docs build failed (tests/test_docs.py):\n{result.stderr[-3000:]}")
    return html


class TestBuiltDocs:
    def test_no_code_block_or_table_overflows(self, browser, site):
        """Every page at a desktop width; the hand-written ones also at a phone's."""
        pages = pages_of(site)
        assert len(pages) >= 14
        reports = check_pages(browser, site, pages, {"desktop": VIEWPORTS["desktop"]})
        reports.update(check_pages(browser, site, [p for p in pages if "generated" not in p.parts],
                                   {"phone": VIEWPORTS["phone"]}))
        for where, report in reports.items():  # the browser measured every block and table
            source = (site / where.rsplit(" @ ", 1)[0]).read_text(encoding="utf-8")
            assert report["checked"] == len(re.findall(r"<(pre|table)[\s>]", source)), where
        problems = sum(len(r["problems"]) for r in reports.values())
        assert problems == 0, "code blocks or tables overflow without a scroll bar:\n" + \
            describe(reports)

    def test_code_blocks_have_copy_buttons(self, browser, site):
        browser.open((site / "tutorial.html").as_uri(), *VIEWPORTS["desktop"])
        report = browser.evaluate(CHECK_JS)
        assert report["codeBlocks"] > 0
        assert report["copyButtons"] == report["codeBlocks"]


def main(argv: list[str]) -> int:
    """``python tests/test_docs_browser.py HTML_DIR [--screenshot PAGE OUT.png]``."""
    html = Path(argv[0]).resolve()
    executable = find_browser()
    if executable is None:
        print(f"no Chromium: {INSTALL}", file=sys.stderr)
        return 2
    with Chromium(executable) as chromium:
        if "--screenshot" in argv:
            page, out = argv[argv.index("--screenshot") + 1: argv.index("--screenshot") + 3]
            width, height = VIEWPORTS["phone" if "--phone" in argv else "desktop"]
            chromium.open((html / page).as_uri(), width, height)
            chromium.screenshot(Path(out), full_page="--full" in argv)
            return 0
        start = time.perf_counter()
        reports = check_pages(chromium, html)
        print(describe(reports))
        print(f"checked in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
