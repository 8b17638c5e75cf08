"""The gallery: ``build/report/`` read in a real browser, as a reader meets it.

Builds a small report (``scripts/run_notebooks.py --mode small --only 00,08``), serves it on
127.0.0.1, and drives headless Chromium (Debian's ``/usr/bin/chromium``, started here) over the
DevTools protocol with ``websocket-client``. On the index and on every notebook page it links, it
checks:

- no console errors, no uncaught exceptions, no failed resource loads, no script from elsewhere;
- every ``<audio>`` loads its (base64 ``data:``, Ogg Vorbis) source to at least HAVE_METADATA
  without a media error; every ``<img>`` has decoded (``naturalWidth > 0``) and has an alt text
  made from its figure's titles;
- every ``<a href>`` to a local file points at a file of the report (a dead link fails);
- each page's ``<title>`` is its notebook's title; Previous / Next follow the pages in number
  order and Index leads back; code cells are folded; no stderr output (log lines) on a page;
- every page is under 5 MB, and the index loads in under a second;
- the index shows each notebook's headline where it has one.

Run it alone with ``make test-gallery``. Skipped, with the reason, when Chromium is not installed
(``scripts/install_chromium.sh`` installs it).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MUSICLIB_CHROMIUM", "/usr/bin/chromium")
BUILT = ("00", "08")  # the notebooks of the small report
MAX_PAGE_BYTES = 5 * 1024 * 1024
INDEX_LOAD_MS = 1000

pytestmark = [pytest.mark.slow, pytest.mark.notebook, pytest.mark.timeout(900)]


def _chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip(f"Chromium not found at {CHROMIUM}; install it with scripts/install_chromium.sh")
    return path


def _websocket():
    try:
        import websocket  # websocket-client, installed with Jupyter
    except ImportError:
        pytest.skip("websocket-client is not installed")
    return websocket


class DevTools:
    """A minimal DevTools-protocol client for one page target."""

    def __init__(self, ws_url: str):
        self.ws = _websocket().create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, *, timeout: float = 60) -> dict:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def wait_for(self, event: str, *, timeout: float = 60) -> dict:
        for i, e in enumerate(self.events):
            if e["method"] == event:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        self.ws.settimeout(timeout)
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == event:
                return msg
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(event)

    def evaluate(self, expression: str, *, timeout: float = 60):
        r = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluation failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self):
        self.ws.close()


def _problems(events: list[dict]) -> list[str]:
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            if p["entry"].get("url", "").endswith("/favicon.ico"):  # the browser asks on its own
                continue
            out.append(f"log error: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            out.append(f"failed load: {p.get('errorText')} ({p.get('type')})")
    return out


# every <audio>: load to HAVE_METADATA (1) or fail; every <img>: decoded with a width; the page's
# links, navigation, title, folded code and stderr outputs
_CHECK_PAGE = """
(async () => {
  const audios = [...document.querySelectorAll('audio')];
  const results = await Promise.all(audios.map((a, i) => new Promise(resolve => {
    const src = a.currentSrc || a.src || (a.querySelector('source') || {}).src || '';
    const done = () => resolve({i, readyState: a.readyState, error: a.error ? a.error.code : null,
                                duration: a.duration, src: src.slice(0, 40)});
    if (a.readyState >= 1 || a.error) return done();
    a.addEventListener('loadedmetadata', done, {once: true});
    a.addEventListener('error', done, {once: true});
    if (a.querySelector('source')) a.querySelector('source').addEventListener('error', done, {once: true});
    a.preload = 'metadata';
    a.load();
    setTimeout(done, 20000);
  })));
  const images = [...document.images].map((im, i) => ({i, complete: im.complete, width: im.naturalWidth,
                                                      alt: im.getAttribute('alt'),
                                                      src: (im.currentSrc || im.src).slice(0, 40)}));
  const hrefs = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  const rel = r => [...document.querySelectorAll(`nav.musiclib-nav a[rel=${r}]`)].map(a => a.getAttribute('href'));
  const nav = {prev: rel('prev'), next: rel('next'), count: document.querySelectorAll('nav.musiclib-nav').length,
               index: document.querySelectorAll('nav.musiclib-nav a[href="index.html"]').length};
  const inputs = document.querySelectorAll('.jp-CodeCell .jp-InputArea').length;
  const folded = document.querySelectorAll('details.musiclib-code:not([open]) .jp-InputArea').length;
  const stderr = [...document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.textContent.slice(0, 200));
  const scripts = [...document.querySelectorAll('script[src]')].map(s => s.getAttribute('src'));
  const timing = performance.getEntriesByType('navigation')[0];
  return {title: document.title, audios: results, images, hrefs, nav, inputs, folded, stderr, scripts,
          load_ms: timing ? timing.loadEventEnd - timing.startTime : null,
          headlines: [...document.querySelectorAll('.headline')].map(e => e.textContent)};
})()
"""


def _runner():
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_notebooks", REPO / "scripts" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stdout(executed: Path) -> str:
    nb = json.loads(executed.read_text())
    return "".join(
        "".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
    )


def test_compare_runs_in_small_mode_without_outputs(tmp_path, monkeypatch):
    """08 with an empty outputs root: baselines only, and it says every approach is missing."""
    monkeypatch.setenv("MUSICLIB_OUTPUTS", str(tmp_path / "outputs"))
    record = _runner().execute(REPO / "notebooks" / "08_compare.ipynb", tmp_path / "08.ipynb", mode="small")
    assert record["status"] == "ok", record["error"]
    text = _stdout(tmp_path / "08.ipynb")
    assert "No approach has outputs yet" in text
    assert "missing (run their notebooks to add them): 02_linear_regression, 03_trees" in text
    assert "baseline: training excerpt: FAIL (copying)" in text  # it fails copying, and only copying


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    env = dict(os.environ, MUSICLIB_OUTPUTS=str(out / "outputs"), PYTHONPATH=str(REPO))
    # one approach with outputs, so 08 shows an approach row, its player and its times
    from musiclib import synth
    from musiclib.tools import outputs

    outputs.save_clips(
        "02_linear_regression",
        [synth.synthetic_mix(duration=3.0, bpm=b, seed=i) for i, b in enumerate([100, 124])],
        sr=22050, representation={"name": "mel"}, parameters={"test": True}, seed=0,
        train_seconds=1.0, generate_seconds=0.5, root=out / "outputs", run="test-run",
    )
    r = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "run_notebooks.py"), "--mode", "small", "--out", str(out),
         "--only", ",".join(BUILT)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=800,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    index = out / "report" / "index.html"
    assert index.is_file()
    return out / "report"


@pytest.fixture(scope="module")
def server(report):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(report))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = _chromium()
    _websocket()
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--mute-audio",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text().strip():
        if proc.poll() is not None:
            pytest.fail(f"chromium exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("chromium did not open its DevTools port within 60 s")
        time.sleep(0.2)
    port = int(port_file.read_text().split()[0])
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _open(browser: str, url: str) -> tuple[dict, list[str]]:
    req = urllib.request.Request(f"{browser}/json/new?about:blank", method="PUT")
    target = json.loads(urllib.request.urlopen(req, timeout=30).read())
    page = DevTools(target["webSocketDebuggerUrl"])
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send("Page.navigate", {"url": url})
        page.wait_for("Page.loadEventFired", timeout=120)
        time.sleep(1.0)  # late script errors
        result = page.evaluate(_CHECK_PAGE, timeout=120)
        page.send("Runtime.evaluate", {"expression": "0"})  # drain pending events
        return result, _problems(page.events)
    finally:
        page.close()
        urllib.request.urlopen(f"{browser}/json/close/{target['id']}", timeout=30).read()


def _local(href: str) -> str | None:
    """The report file a link points at, or None for in-page anchors and other sites."""
    if href.startswith("#") or "://" in href or href.split(":", 1)[0] in ("mailto", "data", "javascript"):
        return None
    return urllib.parse.unquote(href.split("#", 1)[0].split("?", 1)[0])


def _check_page(browser, url, report: Path, *, expect_audio: bool):
    result, problems = _open(browser, url)
    assert not problems, f"{url}: " + "\n".join(problems)
    bad_audio = [a for a in result["audios"] if a["readyState"] < 1 or a["error"] is not None]
    assert not bad_audio, f"{url}: audio elements that do not load: {bad_audio}"
    bad_img = [im for im in result["images"] if not im["complete"] or im["width"] <= 0]
    assert not bad_img, f"{url}: images that do not render: {bad_img}"
    assert not result["scripts"], f"{url}: scripts loaded from files or elsewhere: {result['scripts']}"
    dead = [h for h in result["hrefs"] if _local(h) is not None and not (report / _local(h)).is_file()]
    assert not dead, f"{url}: links to files that are not in the report: {dead}"
    if expect_audio:
        assert result["audios"], f"{url}: no <audio> element"
    return result


def test_index_and_every_linked_page_load(server, browser, report):
    index = _check_page(browser, f"{server}/index.html", report, expect_audio=False)
    assert index["title"] == "musiclib notebook series"
    assert not index["images"] and not index["audios"]  # nothing to load but itself
    # the first page of a fresh browser also waits for its renderer process to start: time the second
    again = _check_page(browser, f"{server}/index.html", report, expect_audio=False)
    assert again["load_ms"] is not None and again["load_ms"] < INDEX_LOAD_MS, f"index loaded in {again['load_ms']:.0f} ms"
    links = list(dict.fromkeys(h for h in index["hrefs"] if h.endswith(".html")))
    assert "08_compare.html" in links and "00_data_tour.html" in links, links
    assert links[0] == "08_compare.html", f"the comparison is not on top: {links}"
    # the index shows every headline the records hold (a notebook without one shows its status only)
    records = [json.loads(p.read_text()) for p in sorted(report.glob("[0-9][0-9]_*.json"))]
    assert sorted(index["headlines"]) == sorted(r["headline"] for r in records if r.get("headline"))
    runner = _runner()
    pages = sorted(links)  # the series order: by number
    for i, link in enumerate(pages):
        page = _check_page(browser, f"{server}/{link}", report, expect_audio=True)
        stem = link.removesuffix(".html")
        assert page["title"] == runner._title(REPO / "notebooks" / f"{stem}.ipynb"), link
        assert page["images"], f"{link}: no images"
        no_alt = [im for im in page["images"] if not im["alt"] or not im["alt"].startswith("Figure: ")]
        assert not no_alt, f"{link}: images without an alt text from their figure's titles: {no_alt}"
        assert all(a["duration"] and a["duration"] > 0 for a in page["audios"]), link
        nav = page["nav"]
        assert nav["count"] == 2 and nav["index"] == 2, f"{link}: navigation {nav}"
        assert nav["prev"] == ([pages[i - 1]] * 2 if i > 0 else []), f"{link}: previous {nav['prev']}"
        assert nav["next"] == ([pages[i + 1]] * 2 if i + 1 < len(pages) else []), f"{link}: next {nav['next']}"
        assert page["inputs"] and page["folded"] == page["inputs"], f"{link}: code cells not folded"
        assert not page["stderr"], f"{link}: stderr output (log lines) on the page: {page['stderr']}"


def test_pages_are_light(report):
    sizes = {p.name: p.stat().st_size for p in report.glob("*.html")}
    assert len(sizes) == len(BUILT) + 1, sizes
    heavy = {k: v for k, v in sizes.items() if v > MAX_PAGE_BYTES}
    assert not heavy, f"pages over {MAX_PAGE_BYTES / 2**20:.0f} MB: {heavy}"
    assert sizes["index.html"] < 100_000
