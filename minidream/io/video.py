"""Video in and out: frames from a video file (PyAV), an animated GIF (Pillow) or a folder of images.

Every reader gives RGB uint8 (H, W, 3) frames and a `Clip` saying the frame rate, the size,
the frame count (None when the container does not say) and whether there is audio. Video
files are written with PyAV (H.264 in .mp4/.mkv/.mov), carrying the input's audio stream
over unchanged (remuxed, not re-encoded) when both ends are video containers.
"""
import dataclasses
import itertools
import os
from fractions import Fraction

import numpy as np

from minidream.io.files import atomic_path
from minidream.io.images import check_image_file, image_files, load_rgb, write_gif

DEFAULT_FPS = Fraction(24)  # for folders of frames, which carry no rate
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v")


@dataclasses.dataclass
class Clip:
    fps: Fraction
    size: tuple  # (width, height)
    count: int = None
    audio: bool = False


def _av():
    try:
        import av
    except ImportError:
        raise ImportError("video files need PyAV: pip install 'minidream[video]' (or av)") from None
    return av


def kind_of(path):
    """'folder', 'gif' or 'video' for a video path (existing or to be written)."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext == ".gif":
        return "gif"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    if ext == "" or os.path.isdir(path):
        return "folder"
    raise ValueError(f"{path!r} is not a video: use a {', '.join(VIDEO_EXTENSIONS)} or .gif file, or a folder")


def probe(path, fps=None):
    """The Clip of a video file, GIF or folder; fps: the rate of a folder's frames (default 24)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"video not found: {path}")
    kind = kind_of(path)
    if fps is not None and kind != "folder":
        raise ValueError(f"{path} has its own frame rate: give fps (--fps) only for a folder of frames")
    if kind == "folder":
        files = image_files(path)
        if not files:
            raise ValueError(f"no image files in {path}")
        h, w = load_rgb(files[0])[0].shape[:2]
        return Clip(Fraction(fps or DEFAULT_FPS).limit_denominator(1001), (w, h), len(files))
    if kind == "gif":
        from PIL import Image

        check_image_file(path)  # a FIFO named .gif would block the open
        with Image.open(path) as img:
            duration = img.info.get("duration") or 100  # milliseconds per frame; GIFs without one play at 10
            return Clip(Fraction(1000, int(duration)), img.size, img.n_frames)
    with _av().open(path) as container:
        if not container.streams.video:
            raise ValueError(f"{path} has no video stream")
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate or stream.guessed_rate or DEFAULT_FPS)
        return Clip(rate, (stream.codec_context.width, stream.codec_context.height), stream.frames or None,
                    bool(container.streams.audio))


def read_frames(path):
    """Yield the frames of a video file, GIF or folder as RGB uint8 (H, W, 3) arrays."""
    path = os.fspath(path)
    kind = kind_of(path)
    if kind == "folder":
        for file in image_files(path):
            yield load_rgb(file)[0]
    elif kind == "gif":
        from PIL import Image, ImageSequence

        with Image.open(path) as img:
            for frame in ImageSequence.Iterator(img):
                yield load_rgb(frame.copy())[0]
    else:
        with _av().open(path) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")


def write_video(frames, path, fps, audio_from=None):
    """Write RGB uint8 frames to a .gif or a video file (H.264, crf 18), atomically.

    audio_from: a video file whose first audio stream is copied into the output (video
    containers only). Returns the number of frames written.
    """
    path = os.fspath(path)
    if kind_of(path) == "gif":
        from PIL import Image

        pil = [Image.fromarray(f) for f in frames]
        write_gif(pil, path, float(fps))
        return len(pil)
    av = _av()
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise ValueError("no frames to write")
    count = 0
    with atomic_path(path) as tmp, av.open(tmp, "w") as out:
        # Every stream must exist before the first packet is muxed (that writes the header).
        stream = _video_stream(out, fps, first.shape[1], first.shape[0])
        source = av.open(os.fspath(audio_from)) if audio_from is not None else None
        try:
            audio = None
            if source is not None and source.streams.audio:
                audio = (source.streams.audio[0], out.add_stream_from_template(source.streams.audio[0]))
            for rgb in itertools.chain([first], frames):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
                count += 1
            for packet in stream.encode():
                out.mux(packet)
            if audio is not None:
                _copy_audio(source, *audio, out)
        finally:
            if source is not None:
                source.close()
    return count


def _video_stream(out, fps, width, height):
    stream = out.add_stream("libx264", rate=Fraction(fps))
    stream.width, stream.height = width, height
    # 4:2:0 chroma needs even sides; odd-sized frames keep full chroma instead.
    stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    stream.options = {"crf": "18"}
    return stream


def _copy_audio(source, stream_in, stream_out, out):
    """Remux the packets of stream_in (of the open container source) into stream_out of out."""
    for packet in source.demux(stream_in):
        if packet.dts is None:  # the demuxer's final flush packet
            continue
        packet.stream = stream_out
        out.mux(packet)
