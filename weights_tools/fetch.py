"""Download the zoo's models (weights_tools.zoo), verify them, and hand them to a converter.

    fetch_model("googlenet")                  -> <cache>/models/googlenet.h5
    fetch_model("vgg16", convert=my_convert)  # my_convert(caffemodel, target, prototxt or None, info)

For each model: the .caffemodel goes to <cache>/downloads/<file> with a progress bar; an
interrupted download resumes from where it stopped (HTTP Range), and a server that
ignores Range restarts it cleanly. The finished file must match the published SHA1 (or
SHA256 prefix); where none is published its size must be near the registry's. A bad
file is deleted and FetchError says so. The entry's deploy prototxt, mean file and
class list (Places) are downloaded beside it as <cache>/downloads/<model>-<file>.
Then ``convert`` builds the .h5; this module does no conversion itself, so it imports
nothing of the engine.

Without a direct download (the ResNets are on OneDrive only), or without network
access, FetchError says where to get the file, where to put it so that ``fetch`` picks
it up, and the ``python -m weights_tools convert`` command that converts it directly.
"""
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request

from weights_tools import cache, cache_health
from weights_tools.zoo import MODELS, SHIPPED_CLASSES, SIZE_TOLERANCE

CHUNK = 1 << 20
TIMEOUT_S = 20  # per connect / read; fail fast when offline


class FetchError(RuntimeError):
    """A download that failed, a model with no direct download, or a file that fails its check."""


def _digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(CHUNK), b""):
            digest.update(piece)
    return digest.hexdigest()


def _problem(path, sha1=None, sha256_prefix=None, size=None):
    """Why the file at ``path`` is not the published one, or None if it passes."""
    if sha1:
        got = _digest(path, "sha1")
        return None if got == sha1 else f"SHA1 {got}, expected {sha1}"
    if sha256_prefix:
        got = _digest(path, "sha256")
        return None if got.startswith(sha256_prefix) else f"SHA256 {got}, expected {sha256_prefix}..."
    if size:
        got = os.path.getsize(path)
        if not size / SIZE_TOLERANCE <= got <= size * SIZE_TOLERANCE:
            return f"{got:,} bytes, expected about {size:,} (an error page instead of the file?)"
    elif not os.path.getsize(path):
        return "0 bytes"
    return None


def _open(url, offset):
    request = urllib.request.Request(url, headers={"User-Agent": "minidream-weights-tools"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return urllib.request.urlopen(request, timeout=TIMEOUT_S)


def download(url, dest, sha1=None, progress=True, sha256_prefix=None, size=None, max_bytes=None):
    """Download url to dest (resuming dest + ".part"), check it (see _problem); returns dest.

    max_bytes: refuse a file larger than this (default: cache_health's cap for `size`, else its side-file cap)."""
    max_bytes = max_bytes or cache_health.download_cap(size) or cache_health.SIDE_FILE_CAP
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
                _check_cap(url, part, total or 0, max_bytes)
                with open(part, "ab" if offset else "wb") as f, \
                        tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                             desc=os.path.basename(dest), disable=not progress) as bar:
                    for piece in iter(lambda: response.read(CHUNK), b""):
                        f.write(piece)
                        bar.update(len(piece))
                        _check_cap(url, part, f.tell(), max_bytes)
                if total is not None and os.path.getsize(part) < total:
                    raise FetchError(f"the download of {url} stopped early; run the same command to resume")
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, cut-off bodies
        reason = getattr(exc, "reason", None) or exc
        kept = " (the partial file is kept; run again to resume)" if os.path.exists(part) else ""
        raise FetchError(f"cannot download {url}: {reason}{kept}") from None
    problem = _problem(part, sha1, sha256_prefix, size)
    if problem:
        os.remove(part)
        raise FetchError(f"{url} downloaded with {problem}; the file was deleted, "
                         "run the command again to download it afresh")
    os.replace(part, dest)
    return dest


def _check_cap(url, part, count, max_bytes):
    if count > max_bytes:
        if os.path.exists(part):
            os.remove(part)
        raise FetchError(f"{url} is larger than {max_bytes:,} bytes, far above the expected size; the partial "
                         "file was deleted (a wrong URL or a hostile server?)")


def _side_file(name, url):
    """Cache path of a model's prototxt / mean file / class list downloaded from ``url``."""
    return cache.side_file_path(name, _url_filename(url))


def _url_filename(url):
    return url.split("?")[0].rsplit("/", 1)[-1]


def convert_command(name):
    """The `python -m weights_tools convert` command for the model's files as their authors name them."""
    info = MODELS[name]
    options = "".join(f" --{option} {_url_filename(info[key])}" for option, key in
                      (("prototxt", "prototxt_url"), ("mean-file", "mean_file_url")) if info[key])
    return f"python -m weights_tools convert {info['filename']}{options} {cache.model_path(name)}"


def manual_steps(name, url=None):
    """How to install a model by hand: where to get the files, where to put them, what to run."""
    info = MODELS[name]
    url = url or info["url"]
    check = (f"SHA1 {info['sha1']}" if info["sha1"] else f"SHA256 {info['sha256_prefix']}..."
             if info["sha256_prefix"] else f"about {info['size'] / 1e6:.0f} MB, no published hash")
    where = f"download {url} on a machine with internet access ({check})" if url else info["manual"]
    extra = "".join(f", and {info[key]} as {_side_file(name, info[key])}"
                    for key in ("prototxt_url", "mean_file_url", "classes_url") if info[key])
    return (f"{where}; then either put {info['filename']} at {cache.download_path(info['filename'])}{extra} "
            f"and run `python -m weights_tools fetch {name}` again, or run: {convert_command(name)}")


def _converter(convert):
    """The conversion callable: the caller's, else weights_tools.convert's (imported on use, so
    that importing fetch never imports the engine)."""
    if convert is not None:
        return convert
    from weights_tools.convert import Options
    from weights_tools.convert import convert as caffe_convert

    def builtin(caffemodel, target, prototxt, info):
        """weights_tools.convert with what the zoo entry knows and deploy nets do not say: its deploy net, the
        mean (values or the authors' mean file), scale, channel order and class list. (The input size is
        left to the file: deploy nets declare it.)"""
        options = Options(prototxt=prototxt, mean_file=info["mean_file"], mean=info["mean_bgr"],
                          scale=info["scale"], channel_order=info["channel_order"], class_file=info["class_file"])
        caffe_convert(caffemodel, target, options=options)
    return builtin


def _fetch_side_files(name, info, progress):
    """Download the prototxt, mean file and class list the entry names; returns their paths."""
    paths = {}
    for key in ("prototxt_url", "mean_file_url", "classes_url"):
        if info[key]:
            path = _side_file(name, info[key])
            if not path.exists():
                download(info[key], path, progress=progress)
            paths[key] = path
    return paths


def fetch_model(name, url=None, progress=True, convert=None):
    """The cached .h5 of a zoo model, downloading, verifying and converting it first if needed.

    url: a mirror of the .caffemodel (same file, same hash). convert: a callable
    (caffemodel_path, target_path, prototxt_path or None, info) -> None writing target_path;
    info is the zoo entry plus "mean_file" and "class_file" (local paths or None; the
    class file is the shipped ImageNet list for ImageNet models, see zoo.read_class_list).
    """
    if name not in MODELS:
        raise FetchError(f"unknown model {name!r}; fetchable models: {', '.join(MODELS)}")
    target = cache.model_path(name)
    with cache_health.locked(target):  # a second fetch of this model waits here, then finds it ready
        if target.exists():
            problem = cache_health.problem(target)
            if problem is None:
                return target
            print(f"warning: the cached {name} is damaged ({problem}); set aside as "
                  f"{cache_health.set_aside(target)}, fetching it again", file=sys.stderr)
        return _fetch(name, target, url, progress, convert)


def _fetch(name, target, url, progress, convert):
    info = MODELS[name]
    checks = {"sha1": info["sha1"], "sha256_prefix": info["sha256_prefix"], "size": info["size"]}
    source = cache.download_path(info["filename"])
    problem = _problem(source, **checks) if source.exists() else None
    if problem or not source.exists():
        if not (url or info["url"]):
            found = f" ({source} is there but has {problem})" if problem else ""
            raise FetchError(f"{name} has no direct download{found}. To install it: {manual_steps(name)}")
        try:
            download(url or info["url"], source, progress=progress, **checks)
        except FetchError as exc:
            raise FetchError(f"{exc}. To install {name} by hand: {manual_steps(name, url)}") from None
    try:
        paths = _fetch_side_files(name, info, progress)
    except FetchError as exc:
        raise FetchError(f"{exc}. To install {name} by hand: {manual_steps(name, url)}") from None
    if progress:
        print(f"converting {source.name} -> {target}")
    class_file = paths.get("classes_url") or SHIPPED_CLASSES.get(info["classes"])
    details = dict(info, mean_file=paths.get("mean_file_url"), class_file=class_file)
    _converter(convert)(source, target, paths.get("prototxt_url"), details)
    return target


def models_table():
    """[(name, size in bytes, cached, license, default layer)] for every zoo model, in zoo order."""
    return [(name, info["size"], cache.model_path(name).exists(), info["license"], info["default_layer"])
            for name, info in MODELS.items()]
