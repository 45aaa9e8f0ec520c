"""The microscope's site in a real browser: headless Chromium (Debian's `chromium`, which .ci/run installs) opens a
site of mini's conv3 and conv5 from file://; every page loads, every picture decodes, every link resolves, and a
screenshot of a channel grid is not blank. Skipped where no Chromium is installed.

Pages: `chromium --headless --dump-dom file://PAGE` prints the DOM Chromium built from the page (the parser's
result, not the file), from which the links and pictures are read. Pictures: a page's DOM says nothing about
whether its images decoded, so a checker page written beside the site (not in it) shows every picture the pages
reference and, once the page has loaded them, asks Chromium to decode each (`img.decode()`, which rejects an image
that cannot be decoded) and writes each one's naturalWidth, 0 for a failure, into its own DOM;
`--virtual-time-budget` lets those promises settle before the dump (decoding runs on threads of its own, so the
dump is taken again, up to three times, while it still says "pending"). A deliberately broken PNG in the list shows that a failure is seen.
"""
import html.parser
import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from minidream.microscope import microscope

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("microscope")
    rng = np.random.default_rng(1)
    (root / "photos").mkdir()
    for i in range(2):
        small = rng.uniform(0, 255, size=(8, 8, 3)).astype(np.uint8)
        Image.fromarray(small).resize((96, 72), Image.BICUBIC).save(root / "photos" / f"photo {i}.jpg")
    microscope("mini", root / "site", layers=["conv3", "conv5"], channels=[0, 1, 2], steps=4, diversity=1,
               images=root / "photos", workers=0, progress=False)
    return root / "site"


def chromium(profile, *args):
    """Headless Chromium's stdout. No sandbox: CI runs as root, where Chromium's sandbox refuses to start."""
    done = subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}",
                           *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Links(html.parser.HTMLParser):
    """The title, the <h1>, and every href and src of a DOM."""

    def __init__(self, dom):
        super().__init__()
        self.title, self.h1, self.hrefs, self.srcs, self._in = "", "", [], [], None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.hrefs += [attrs["href"]] if "href" in attrs else []
        self.srcs += [attrs["src"]] if tag == "img" else []
        self._in = tag if tag in ("title", "h1") else None

    def handle_data(self, data):
        if self._in:
            setattr(self, self._in, getattr(self, self._in) + data)

    def handle_endtag(self, tag):
        self._in = None


@pytest.fixture(scope="module")
def doms(site, tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    return {page: Links(chromium(profile, "--dump-dom", page.as_uri())) for page in sorted(site.rglob("*.html"))}


def test_every_page_loads_and_every_link_resolves(site, doms):
    assert len(doms) == 1 + 2 * (1 + 3)  # the index, and per layer its grid and three channel pages
    for page, dom in doms.items():
        assert dom.title.endswith("microscope: mini") and dom.h1, page
        for link in dom.hrefs + dom.srcs:
            target = (page.parent / link).resolve()
            assert "://" not in link and target.is_file() and site in target.parents, (page, link)
    index = doms[site / "index.html"]
    assert [h for h in index.hrefs if h.endswith("index.html")] == ["conv3/index.html"] * 2 + ["conv5/index.html"] * 2
    grid = doms[site / "conv5" / "index.html"]
    assert grid.srcs == ["0.png", "1.png", "2.png"] and {"0.html", "1.html", "2.html"} <= set(grid.hrefs)
    channel = doms[site / "conv5" / "1.html"]
    assert channel.srcs[:2] == ["1.png", "1_1.png"] and sum(s.startswith("crops/1_") for s in channel.srcs) == 2


def test_every_picture_decodes(site, doms, tmp_path):
    pictures = sorted({(page.parent / src).resolve() for page, dom in doms.items() for src in dom.srcs})
    assert len(pictures) == 2 * 3 * 2 + 2 * 3 * 2  # per layer three channels' picture and variant, two crops each
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    checker = tmp_path / "checker.html"
    checker.write_text(
        "<!DOCTYPE html><html><body><pre id=result>pending</pre>\n"
        + "".join(f"<img src={json.dumps(p.as_uri())}>\n" for p in pictures + [broken])
        + "<script>\nwindow.addEventListener('load', () => Promise.all(Array.from(document.images, img =>\n"
          "  img.decode().then(() => img.naturalWidth, () => 0)))\n"
          "  .then(widths => { document.getElementById('result').textContent = JSON.stringify(widths); }));\n"
          "</script></body></html>\n")
    for _ in range(3):  # decoding runs outside the virtual time the dump waits for: rarely, it is not done yet
        dom = chromium(tmp_path / "profile", "--allow-file-access-from-files", "--virtual-time-budget=20000",
                       "--dump-dom", checker.as_uri())
        result = dom.split("<pre id=\"result\">")[1].split("</pre>")[0]
        if result != "pending":
            break
    widths = json.loads(result)
    assert widths == [Image.open(p).width for p in pictures] + [0]  # each as wide as it is; the broken one fails


def test_a_screenshot_of_a_channel_grid_is_not_blank(site, tmp_path):
    shot = tmp_path / "grid.png"
    chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=900,600",
             (site / "conv5" / "index.html").as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (900, 600)
    colors = image.getcolors(maxcolors=900 * 600)
    # A blank or unstyled page has a handful of colours (background, text's anti-aliasing); three dreamed
    # pictures bring thousands.
    assert len(colors) > 1000, len(colors)
