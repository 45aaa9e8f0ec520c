"""fetch against a local HTTP server: progress, resume with Range, clean restart, SHA1, offline."""
import hashlib
import http.server
import socket
import threading
import time

import pytest

from weights_tools import writer as pw
from tests.weights_tools.conftest import small_model
from weights_tools import cache, fetch
from weights_tools.__main__ import main


class Server:
    """Serves one payload; can honour or ignore Range, and cut the first response short."""

    def __init__(self, payload, ranges=True, cut_first_at=None):
        self.payload, self.ranges, self.cut_first_at = payload, ranges, cut_first_at
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                header = self.headers.get("Range")
                server.requests.append(header)
                body, status = server.payload, 200
                if header and server.ranges:
                    start = int(header.split("=")[1].rstrip("-"))
                    if start >= len(body):
                        self.send_response(416)
                        self.end_headers()
                        return
                    body, status = body[start:], 206
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_first_at is not None and len(server.requests) == 1:
                    body = body[: server.cut_first_at]  # the connection drops mid-file
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/bvlc_googlenet.caffemodel"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def payload(monkeypatch):
    specs, blobs, _ = small_model()
    data = pw.snapshot(specs, blobs, "V1", crop=13)
    # a small 3-class net standing in for GoogLeNet: no ImageNet class list for it
    monkeypatch.setitem(fetch.MODELS, "googlenet", dict(fetch.MODELS["googlenet"],
                                                        sha1=hashlib.sha1(data).hexdigest(), classes=None))
    return data


def _serve(request, *args, **kwargs):
    server = Server(*args, **kwargs)
    request.addfinalizer(server.close)
    return server


def test_fetch_downloads_verifies_and_converts(payload, request, capsys):
    server = _serve(request, payload)
    assert main(["fetch", "googlenet", "--url", server.url]) == 0
    assert cache.model_path("googlenet").exists()
    assert cache.download_path("bvlc_googlenet.caffemodel").read_bytes() == payload
    assert "googlenet is ready" in capsys.readouterr().out
    assert fetch.fetch_model("googlenet", url=server.url) == cache.model_path("googlenet")
    assert len(server.requests) == 1  # cached: no second download


def test_interrupted_download_resumes_with_range(payload, request):
    server = _serve(request, payload, cut_first_at=len(payload) // 3)
    with pytest.raises(fetch.FetchError, match="resume"):
        fetch.fetch_model("googlenet", url=server.url, progress=False)
    part = str(cache.download_path("bvlc_googlenet.caffemodel")) + ".part"
    assert open(part, "rb").read() == payload[: len(payload) // 3]
    fetch.fetch_model("googlenet", url=server.url, progress=False)
    assert server.requests == [None, f"bytes={len(payload) // 3}-"]
    assert cache.download_path("bvlc_googlenet.caffemodel").read_bytes() == payload


def test_server_ignoring_range_restarts_cleanly(payload, request):
    server = _serve(request, payload, ranges=False)
    part = cache.download_path("bvlc_googlenet.caffemodel").with_suffix(".caffemodel.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"stale bytes from another attempt")
    fetch.fetch_model("googlenet", url=server.url, progress=False)
    assert cache.download_path("bvlc_googlenet.caffemodel").read_bytes() == payload


def test_complete_part_file_is_finished_without_redownloading(payload, request):
    server = _serve(request, payload)
    part = cache.download_path("bvlc_googlenet.caffemodel").with_suffix(".caffemodel.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(payload)
    fetch.fetch_model("googlenet", url=server.url, progress=False)  # the server answers 416
    assert cache.model_path("googlenet").exists()


def test_sha1_mismatch_deletes_the_file(payload, request, monkeypatch):
    monkeypatch.setitem(fetch.MODELS, "googlenet", dict(fetch.MODELS["googlenet"], sha1="0" * 40))
    server = _serve(request, payload)
    with pytest.raises(fetch.FetchError, match="expected 0000"):
        fetch.fetch_model("googlenet", url=server.url, progress=False)
    assert list(cache.download_path("x").parent.iterdir()) == []
    assert not cache.model_path("googlenet").exists()


def test_offline_fails_fast_with_url_sha1_and_manual_command(capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/bvlc_alexnet.caffemodel"
    start = time.perf_counter()
    assert main(["fetch", "alexnet", "--url", url]) == 2
    assert time.perf_counter() - start < 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert url in err and fetch.MODELS["alexnet"]["sha1"] in err
    assert "python -m weights_tools convert bvlc_alexnet.caffemodel" in err


def test_the_builtin_converter_gets_the_entrys_metadata(payload, request, monkeypatch):
    """fetch hands the zoo entry's prototxt, mean, scale, channel order, input size and classes to convert."""
    from weights_tools import convert as convert_module

    seen = {}
    monkeypatch.setattr(convert_module, "convert", lambda src, dst, options: seen.update(options=options))
    monkeypatch.setitem(fetch.MODELS, "googlenet", dict(fetch.MODELS["googlenet"], mean_bgr=[1.0, 2.0, 3.0],
                                                        scale=0.5, classes="imagenet"))
    server = _serve(request, payload)
    fetch.fetch_model("googlenet", url=server.url, progress=False)
    options = seen["options"]
    assert options.mean == [1.0, 2.0, 3.0] and options.scale == 0.5 and options.channel_order == "BGR"
    assert options.prototxt is None and str(options.class_file).endswith("synset_words.txt")


def test_fetch_offers_every_zoo_model(capsys):
    with pytest.raises(SystemExit):
        main(["fetch", "--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in fetch.MODELS)
