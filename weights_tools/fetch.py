"""Download BVLC's reference models, verify them, convert them into the cache.

    fetch_model("googlenet")  -> <cache>/models/googlenet.h5

The download goes to <cache>/downloads/<file>.part with a progress bar. An interrupted
download resumes from where it stopped (HTTP Range); a server that ignores Range
restarts it cleanly. The finished file must match the published SHA1, or it is deleted
and FetchError says so. Without network access FetchError comes at once, with the URL,
the SHA1 and the command that converts a file downloaded elsewhere.
"""
import hashlib
import http.client
import os
import urllib.error
import urllib.request

from weights_tools import cache
from weights_tools.convert import convert

MODELS = {
    "googlenet": {"url": "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel",
                  "sha1": "405fc5acd08a3bb12de8ee5e23a96bec22f08204"},
    "alexnet": {"url": "http://dl.caffe.berkeleyvision.org/bvlc_alexnet.caffemodel",
                "sha1": "9116a64c0fbe4459d18f4bb6b56d647b63920377"},
}
CHUNK = 1 << 20
TIMEOUT_S = 20  # per connect / read; fail fast when offline


class FetchError(RuntimeError):
    """A download that failed, or a file whose SHA1 is not the published one."""


def manual_steps(name, url=None):
    """How to install a model by hand when this machine cannot download it."""
    info = MODELS[name]
    url = url or info["url"]
    filename = url.rsplit("/", 1)[-1]
    return (f"download {url} on a machine with internet access (SHA1 {info['sha1']}), copy it here, then run: "
            f"python -m weights_tools convert {filename} {cache.model_path(name)}")


def _sha1(path):
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(CHUNK), b""):
            digest.update(piece)
    return digest.hexdigest()


def _open(url, offset):
    request = urllib.request.Request(url, headers={"User-Agent": "minidream-weights-tools"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return urllib.request.urlopen(request, timeout=TIMEOUT_S)


def download(url, dest, sha1, progress=True):
    """Download url to dest (resuming dest + ".part"), verify its SHA1; returns dest."""
    from tqdm import tqdm

    dest = os.fspath(dest)
    part = dest + ".part"
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    offset = os.path.getsize(part) if os.path.exists(part) else 0
    try:
        try:
            response = _open(url, offset)
        except urllib.error.HTTPError as exc:
            if exc.code != 416 or not offset:  # 416: nothing after offset, the .part may be complete
                raise
            response = None
        if response is not None:
            with response:
                if offset and response.status != 206:
                    offset = 0  # the server sent the whole file: start over
                length = response.headers.get("Content-Length")
                total = offset + int(length) if length and length.isdigit() else None
                with open(part, "ab" if offset else "wb") as f, \
                        tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                             desc=os.path.basename(dest), disable=not progress) as bar:
                    for piece in iter(lambda: response.read(CHUNK), b""):
                        f.write(piece)
                        bar.update(len(piece))
                if total is not None and os.path.getsize(part) < total:
                    raise FetchError(f"the download of {url} stopped early; run the same command to resume")
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, cut-off bodies
        reason = getattr(exc, "reason", None) or exc
        kept = " (the partial file is kept; run again to resume)" if os.path.exists(part) else ""
        raise FetchError(f"cannot download {url}: {reason}{kept}") from None
    got = _sha1(part)
    if got != sha1:
        os.remove(part)
        raise FetchError(f"{url} downloaded with SHA1 {got}, expected {sha1}; the file was deleted, "
                         "run the command again to download it afresh")
    os.replace(part, dest)
    return dest


def fetch_model(name, url=None, progress=True):
    """The cached .h5 of a BVLC model, downloading and converting it first if needed."""
    if name not in MODELS:
        raise FetchError(f"unknown model {name!r}; fetchable models: {', '.join(MODELS)}")
    target = cache.model_path(name)
    if target.exists():
        return target
    info = MODELS[name]
    url = url or info["url"]
    source = cache.download_path(url.rsplit("/", 1)[-1])
    if not (source.exists() and _sha1(source) == info["sha1"]):
        try:
            download(url, source, info["sha1"], progress=progress)
        except FetchError as exc:
            raise FetchError(f"{exc}. To install {name} by hand: {manual_steps(name, url)}") from None
    if progress:
        print(f"converting {source.name} -> {target}")
    convert(source, target)
    return target
