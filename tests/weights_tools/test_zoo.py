"""The model registry and fetch_model for every kind of entry, against a local HTTP server."""
import hashlib
import http.server
import re
import threading

import numpy as np
import pytest

from minidream.architectures.builtin import ARCHITECTURES
from tests.weights_tools.conftest import small_model
from weights_tools import writer as pw
from weights_tools import CaffeModelError, cache, cache_health, fetch, zoo
from weights_tools.meanfile import read_mean_file
from weights_tools.prototxt import parse_prototxt
from minidream.models.loading import save_model

ISSUE_MODELS = ["googlenet", "alexnet", "caffenet", "vgg16", "vgg19", "resnet50", "resnet101", "resnet152",
                "squeezenet1.0", "squeezenet1.1", "nin", "places205-googlenet", "places365-alexnet",
                "places365-googlenet", "places365-vgg16", "places365-resnet152", "mobilenet", "mobilenet-v2"]


def test_registry_has_every_model_with_every_field():
    assert list(zoo.MODELS)[:len(ISSUE_MODELS)] == ISSUE_MODELS
    for name, info in zoo.MODELS.items():
        assert set(info) == set(zoo.REQUIRED) and info["name"] == name
        assert info["url"] is None or re.fullmatch(r"https?://\S+", info["url"]), name
        assert info["url"] or "download" in info["manual"], f"{name}: no URL and no manual steps"
        assert info["sha1"] is None or re.fullmatch(r"[0-9a-f]{40}", info["sha1"]), name
        assert info["sha256_prefix"] is None or re.fullmatch(r"[0-9a-f]{8,64}", info["sha256_prefix"]), name
        assert isinstance(info["size"], int) and 1_000_000 < info["size"] < 1_000_000_000, name
        assert info["filename"].endswith(".caffemodel") and "/" not in info["filename"]
        for key in ("prototxt_url", "mean_file_url", "classes_url"):
            assert info[key] is None or info[key].startswith(("http://", "https://")), (name, key)
        assert (info["mean_bgr"] is None) == (info["mean_file_url"] is not None), name
        assert info["mean_bgr"] is None or (len(info["mean_bgr"]) == 3 and all(90 < m < 130 for m in info["mean_bgr"]))
        assert 0 < info["scale"] <= 1 and info["channel_order"] == "BGR"
        assert len(info["input_size"]) == 2 and all(s in (224, 227) for s in info["input_size"])
        assert info["classes"] in ("imagenet", "places365", "places205")
        assert (info["classes_url"] is not None) == (info["classes"] == "places365"), name
        assert info["default_layer"] and info["license"] and info["description"] and info["source"]
        assert info["architecture"] is None or info["architecture"] in ARCHITECTURES


def test_published_facts_are_the_ones_read():
    assert zoo.MODELS["googlenet"]["sha1"] == "405fc5acd08a3bb12de8ee5e23a96bec22f08204"
    assert zoo.MODELS["alexnet"]["sha1"] == "9116a64c0fbe4459d18f4bb6b56d647b63920377"
    assert zoo.MODELS["caffenet"]["sha1"] == "4c8d77deb20ea792f84eb5e6d0a11ca0a8660a46"
    assert zoo.MODELS["nin"]["sha1"] == "8e89c8fcd46e02780e16c867a5308e7bb7af0803"
    assert zoo.MODELS["mobilenet"]["scale"] == 0.017 and zoo.MODELS["mobilenet"]["mean_bgr"] == [103.94, 116.78, 123.68]
    assert zoo.MODELS["vgg16"]["mean_bgr"] == [103.939, 116.779, 123.68]
    assert [name for name, info in zoo.MODELS.items() if info["url"] is None] == \
        ["resnet50", "resnet101", "resnet152", "places205-googlenet"]


def test_model_info_copies_and_lists_names_for_unknown():
    info = zoo.model_info("vgg16")
    info["default_layer"] = "changed"
    info["mean_bgr"][0] = 0.0
    assert zoo.MODELS["vgg16"]["default_layer"] == "conv4_3" and zoo.MODELS["vgg16"]["mean_bgr"][0] == 103.939
    with pytest.raises(ValueError, match="unknown model 'vgg17'.*vgg16, vgg19"):
        zoo.model_info("vgg17")


class Files:
    """A local HTTP server for a few named files (404 for anything else)."""

    def __init__(self, files):
        self.files, self.requests = files, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path.lstrip("/"))
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve(request):
    def start(files):
        server = Files(files)
        request.addfinalizer(server.close)
        return server
    return start


class Converter:
    """A stand-in for the converter: records its arguments and writes the target (a small valid model, since
    fetch verifies what it finds cached)."""

    def __init__(self):
        self.calls = []

    def __call__(self, caffemodel, target, prototxt, info):
        self.calls.append((caffemodel, target, prototxt, info))
        target.parent.mkdir(parents=True, exist_ok=True)
        save_model(small_model()[2], target)


DEPLOY = "name: 'p' input: 'data' input_dim: [1, 3, 8, 8]\nlayer { name: 'c' type: 'ReLU' bottom: 'data' top: 'c' }\n"


def test_fetch_downloads_model_prototxt_mean_file_and_class_list(serve, monkeypatch):
    weights = b"\x0a\x01p" * 1000
    mean = pw.blob(np.full((1, 3, 4, 4), [[[104.0]], [[112.0]], [[116.0]]], np.float32))
    server = serve({"w.caffemodel": weights, "deploy_p.prototxt": DEPLOY.encode(), "mean.binaryproto": mean,
                    "categories_places365.txt": b"/a/airfield 0\n/a/alley 1\n"})
    entry = dict(zoo.MODELS["places365-googlenet"], url=server.base + "w.caffemodel", size=len(weights),
                 prototxt_url=server.base + "deploy_p.prototxt", mean_file_url=server.base + "mean.binaryproto",
                 classes_url=server.base + "categories_places365.txt")
    monkeypatch.setitem(zoo.MODELS, "places365-googlenet", entry)
    convert = Converter()
    target = fetch.fetch_model("places365-googlenet", progress=False, convert=convert)
    assert target == cache.model_path("places365-googlenet") and cache_health.problem(target) is None
    [(caffemodel, _, prototxt, info)] = convert.calls
    assert caffemodel.read_bytes() == weights and caffemodel.name == entry["filename"]
    assert parse_prototxt(prototxt)[1][0]["name"] == "c"
    assert read_mean_file(info["mean_file"])[1] == [104.0, 112.0, 116.0]
    assert zoo.read_class_list(info["class_file"]) == ["airfield", "alley"]
    assert info["default_layer"] == "inception_4c/output" and info["mean_bgr"] is None
    assert fetch.fetch_model("places365-googlenet", progress=False, convert=convert) == target
    assert len(convert.calls) == 1 and len(server.requests) == 4  # cached: nothing fetched again


def test_model_without_download_says_where_to_get_it_and_what_to_run(capsys):
    with pytest.raises(fetch.FetchError) as err:
        fetch.fetch_model("resnet50", convert=Converter())
    text = str(err.value)
    assert "\n" not in text and "no direct download" in text and "onedrive.live.com" in text
    assert str(cache.download_path("ResNet-50-model.caffemodel")) in text
    assert "python -m weights_tools convert ResNet-50-model.caffemodel --prototxt " \
           f"ResNet-50-deploy.prototxt {cache.model_path('resnet50')}" in text
    assert str(cache.side_file_path("resnet50", "ResNet-50-deploy.prototxt")) in text  # where fetch finds it


def test_convert_command_names_every_file_the_model_needs():
    assert fetch.convert_command("places365-vgg16") == (
        "python -m weights_tools convert vgg16_places365.caffemodel --prototxt deploy_vgg16_places365.prototxt "
        f"--mean-file places365CNN_mean.binaryproto {cache.model_path('places365-vgg16')}")
    assert fetch.convert_command("nin").startswith("python -m weights_tools convert nin_imagenet.caffemodel /")


def test_a_wrong_manually_placed_file_is_named():
    source = cache.download_path("ResNet-50-model.caffemodel")
    source.parent.mkdir(parents=True)
    source.write_bytes(b"<html>sign in to OneDrive</html>")
    with pytest.raises(fetch.FetchError, match="ResNet-50-model.caffemodel is there but has 32 bytes, expected about"):
        fetch.fetch_model("resnet50", convert=Converter())


def test_a_manually_placed_file_is_picked_up(serve, monkeypatch):
    server = serve({"ResNet-50-deploy.prototxt": DEPLOY.encode()})
    monkeypatch.setitem(zoo.MODELS, "resnet50", dict(zoo.MODELS["resnet50"], size=3000,
                                                     prototxt_url=server.base + "ResNet-50-deploy.prototxt"))
    source = cache.download_path("ResNet-50-model.caffemodel")
    source.parent.mkdir(parents=True)
    source.write_bytes(b"w" * 3000)
    convert = Converter()
    fetch.fetch_model("resnet50", progress=False, convert=convert)
    [(caffemodel, _, prototxt, info)] = convert.calls
    assert caffemodel == source and prototxt.read_text() == DEPLOY
    assert len(zoo.read_class_list(info["class_file"])) == 1000  # ImageNet's list, shipped


def test_size_check_rejects_an_error_page(serve, monkeypatch):
    server = serve({"vgg.caffemodel": b"<html>quota exceeded</html>"})
    monkeypatch.setitem(zoo.MODELS, "vgg16", dict(zoo.MODELS["vgg16"], url=server.base + "vgg.caffemodel"))
    with pytest.raises(fetch.FetchError, match="expected about 553,000,000.*error page"):
        fetch.fetch_model("vgg16", progress=False, convert=Converter())
    assert not cache.download_path("VGG_ILSVRC_16_layers.caffemodel").exists()
    assert not list(cache.download_path("x").parent.glob("*.part"))


@pytest.mark.parametrize("good", [True, False])
def test_sha256_prefix_is_checked(serve, monkeypatch, good):
    weights = b"mobilenet weights"
    prefix = hashlib.sha256(weights).hexdigest()[:8] if good else "00000000"
    server = serve({"m.caffemodel": weights, "mobilenet_deploy.prototxt": DEPLOY.encode()})
    monkeypatch.setitem(zoo.MODELS, "mobilenet", dict(zoo.MODELS["mobilenet"], url=server.base + "m.caffemodel",
                                                      sha256_prefix=prefix,
                                                      prototxt_url=server.base + "mobilenet_deploy.prototxt"))
    convert = Converter()
    if good:
        fetch.fetch_model("mobilenet", progress=False, convert=convert)
        assert convert.calls[0][3]["scale"] == 0.017
    else:
        with pytest.raises(fetch.FetchError, match="expected 00000000"):
            fetch.fetch_model("mobilenet", progress=False, convert=convert)
        assert not convert.calls


def test_missing_side_file_names_it_and_the_manual_steps(serve, monkeypatch):
    server = serve({"w.caffemodel": b"w" * 100})
    monkeypatch.setitem(zoo.MODELS, "places365-vgg16", dict(
        zoo.MODELS["places365-vgg16"], url=server.base + "w.caffemodel", size=100,
        prototxt_url=server.base + "missing.prototxt"))
    with pytest.raises(fetch.FetchError, match="cannot download .*missing.prototxt.*by hand"):
        fetch.fetch_model("places365-vgg16", progress=False, convert=Converter())


def test_models_table_lists_every_model_and_what_is_cached():
    rows = fetch.models_table()
    assert [row[0] for row in rows] == list(zoo.MODELS) and len(rows) >= 18
    assert rows[0] == ("googlenet", zoo.MODELS["googlenet"]["size"], False, zoo.BVLC_LICENSE, "inception_4c/output")
    cache.model_path("vgg19").parent.mkdir(parents=True)
    cache.model_path("vgg19").write_bytes(b"h5")
    assert [row[0] for row in fetch.models_table() if row[2]] == ["vgg19"]


def test_unknown_model_lists_the_zoo():
    with pytest.raises(fetch.FetchError, match="unknown model 'vgg17'.*mobilenet-v2"):
        fetch.fetch_model("vgg17")


def test_class_lists_in_both_layouts(tmp_path):
    imagenet = zoo.read_class_list(zoo.SHIPPED_CLASSES["imagenet"])
    assert len(imagenet) == 1000 and imagenet[1] == "goldfish, Carassius auratus"
    places = tmp_path / "categories_places365.txt"
    places.write_text("/b/bakery/shop 2\n/a/airfield 0\n/a/alley 1\n")
    assert zoo.read_class_list(places) == ["airfield", "alley", "bakery/shop"]
    places.write_text("/a/airfield 0\n/a/alley 0\n")
    with pytest.raises(CaffeModelError, match="0..1 once each"):
        zoo.read_class_list(places)
    with pytest.raises(CaffeModelError, match="cannot read"):
        zoo.read_class_list(tmp_path / "missing.txt")
