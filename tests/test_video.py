"""Video: optical flow and warping, the carried detail, coherence, brightness, resuming, file formats."""
import sys
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

cv2 = pytest.importorskip("cv2")

from minidream.cli import main  # noqa: E402
from minidream.jobs.flow import carry_detail, consistent, optical_flow, warp  # noqa: E402
from minidream.io.images import read_params  # noqa: E402
from minidream.models.loading import load_model  # noqa: E402
from minidream.jobs.videos import render, video  # noqa: E402

FRAMES, H, W, DX, DY = 24, 64, 96, 3, 1  # the clip's texture moves DX px left and DY px up per frame
DREAM = dict(octaves=2, steps=6, progress=False)


def texture(h, w, seed=0):
    """Smooth random colour texture (bicubic upscaled noise), so flow has something to lock onto."""
    noise = np.random.default_rng(seed).uniform(0, 255, size=(h // 4, w // 4, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(noise).resize((w, h), Image.BICUBIC))


@pytest.fixture(scope="module")
def frames():
    tex = texture(H + DY * FRAMES + 8, W + DX * FRAMES + 8)
    return [tex[DY * t:DY * t + H, DX * t:DX * t + W].copy() for t in range(FRAMES)]


@pytest.fixture(scope="module")
def net():
    return load_model("mini")


def temporal_error(outs):
    """mean |out_t - warp(out_{t-1})| with the true motion: out_t(y, x) should be out_{t-1}(y + DY, x + DX)."""
    return float(np.mean([np.abs(outs[t][:H - DY, :W - DX].astype(float) - outs[t - 1][DY:, DX:]).mean()
                          for t in range(1, len(outs))]))


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_flow_finds_the_motion_and_warp_follows_it(frames, method):
    flow = optical_flow(frames[5], frames[4], method)  # frame 5 (y, x) shows frame 4 (y + DY, x + DX)
    assert flow.shape == (H, W, 2) and flow.dtype == np.float32
    inner = flow[8:-8, 8:-8]
    np.testing.assert_allclose(np.median(inner.reshape(-1, 2), axis=0), [DX, DY], atol=0.25)
    warped = warp(frames[4], flow)
    assert np.abs(warped[8:-8, 8:-8] - frames[5][8:-8, 8:-8]).mean() < 3.0
    with pytest.raises(ValueError, match="dis, farneback"):
        optical_flow(frames[0], frames[1], "lucas")


def test_consistency_check_marks_occlusions_and_pixels_leaving_the_frame():
    forward = np.zeros((10, 12, 2), np.float32)
    forward[..., 0] = 3.0
    back = -forward
    ok = consistent(forward, back)
    assert ok[:, :9].all() and not ok[:, 9:].any()  # x + 3 falls outside the frame for the last 3 columns
    assert not consistent(forward, np.zeros_like(forward)).any()  # the way back does not return: occluded
    back[4:6] = 0.0  # an object in rows 4-5 that stays put while the rest moves
    ok = consistent(forward, back)
    assert not ok[4:6].any() and ok[:4, :9].all() and ok[6:, :9].all()


def test_carried_detail_follows_the_motion_and_adds_no_brightness(frames):
    prev, cur = frames[4], frames[5]
    pattern = np.where((np.indices((H, W)).sum(axis=0) // 4) % 2, 30.0, -30.0)[..., None]  # zero-mean checks
    prev_out = np.clip(prev + pattern + 20.0, 0, 255).astype(np.uint8)  # detail = checks + a +20 brightening
    start, carried = carry_detail(prev, prev_out, cur, blend=0.5)
    assert carried > 0.8
    assert abs(start.astype(float).mean() - cur.mean()) < 1.0  # the +20 is not carried
    expected = cur + 0.5 * (np.roll(pattern, (-DY, -DX), axis=(0, 1)))
    inner = (slice(8, -8), slice(8, -8))
    assert np.abs(start[inner] - np.clip(expected, 0, 255)[inner]).mean() < 4.0
    assert np.abs(start[inner].astype(float) - cur[inner]).mean() > 10.0  # the checks did arrive


def test_flow_is_more_coherent_than_no_flow_and_brightness_does_not_drift(frames, net):
    flowed = list(video(frames, blend=0.8, steps_per_frame=3, flow="dis", seed=0, model=net, **DREAM))
    independent = list(video(frames, flow=None, seed=0, model=net, **DREAM))
    assert len(flowed) == len(independent) == FRAMES
    e_flow, e_none = temporal_error(flowed), temporal_error(independent)
    assert e_flow < 0.6 * e_none, (e_flow, e_none)
    drift = np.array([o.mean() - f.mean() for o, f in zip(flowed, frames)])
    assert np.abs(drift).max() < 2.0, drift


def test_a_brightening_dream_does_not_build_up_through_the_carry_over(frames, monkeypatch):
    video_module = sys.modules["minidream.jobs.videos"]
    monkeypatch.setattr(video_module, "resolve_model", lambda model, device: model)
    monkeypatch.setattr(video_module, "dream", lambda rgb, **kw: np.clip(rgb.astype(int) + 4, 0, 255).astype(np.uint8))
    outs = list(video(frames, blend=0.9, flow="dis", model=None))
    drift = np.array([o.mean() - f.mean() for o, f in zip(outs, frames)])
    # Carried naively the +4 would add up to 4 (1 - 0.9^t) / 0.1, about 37 levels by the last frame.
    assert np.all(np.abs(drift - 4.0) < 1.0), drift


def test_render_resumes_and_redoes_only_missing_or_changed_frames(frames, net, tmp_path, monkeypatch):
    clip = tmp_path / "clip"
    clip.mkdir()
    for t, f in enumerate(frames[:6]):
        Image.fromarray(f).save(clip / f"{t:03d}.png")
    out = tmp_path / "out"
    recipe = {"model": "mini", "steps": 6}
    assert render(str(clip), str(out), recipe, model=net, **DREAM) == 6
    first = {p.name: np.asarray(Image.open(p)) for p in sorted(out.iterdir())}
    assert len(first) == 6 and read_params(out / "000003.png") == dict(
        recipe, frame=3, fps="24", blend=0.8, steps_per_frame=3, flow="dis")

    video_module = sys.modules["minidream.jobs.videos"]
    calls = []
    real_dream = video_module.dream
    monkeypatch.setattr(video_module, "dream", lambda rgb, **kw: (calls.append(1), real_dream(rgb, **kw))[1])
    (out / "000002.png").unlink()
    (out / "000004.png").unlink()
    render(str(clip), str(out), recipe, model=net, **DREAM)
    assert len(calls) == 2  # only the two missing frames
    again = {p.name: np.asarray(Image.open(p)) for p in sorted(out.iterdir())}
    assert all(np.array_equal(first[name], again[name]) for name in first)  # the same frames, bit for bit
    render(str(clip), str(out), recipe, blend=0.7, model=net, **DREAM)
    assert len(calls) == 2 + 6  # another recipe: everything again


def write_mp4(path, frames, fps, audio=True):
    """The test's own clip: H.264 video, and a second of 440 Hz AAC audio."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        sound = out.add_stream("aac", rate=44100) if audio else None
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode())
        if sound is not None:
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)).astype(np.float32)[None]
            for i in range(0, tone.shape[1], 1024):
                chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, i:i + 1024]), format="fltp",
                                                   layout="mono")
                chunk.sample_rate, chunk.pts = 44100, i
                out.mux(sound.encode(chunk))
            out.mux(sound.encode())


def test_cli_video_keeps_frame_count_rate_size_and_audio(frames, tmp_path, capsys):
    av = pytest.importorskip("av")
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    write_mp4(src, frames, 12)
    assert main(["video", str(src), "-o", str(dst), "--model", "mini", "--octaves", "2", "--steps", "4",
                 "--steps-per-frame", "2", "--no-progress"]) == 0
    assert "24 frames" in capsys.readouterr().out
    with av.open(str(dst)) as container:
        stream = container.streams.video[0]
        assert Fraction(stream.average_rate) == 12
        assert (stream.codec_context.width, stream.codec_context.height) == (W, H)
        assert len(container.streams.audio) == 1
        assert sum(1 for _ in container.decode(video=0)) == FRAMES
    assert not (tmp_path / "out.mp4.frames").exists()  # encoded, so the frames folder is gone


def test_cli_video_gif_to_folder_and_bad_paths(frames, tmp_path, capsys):
    gif = tmp_path / "in.gif"
    pil = [Image.fromarray(f) for f in frames[:4]]
    pil[0].save(gif, save_all=True, append_images=pil[1:], duration=50, loop=0)
    out = tmp_path / "frames"
    assert main(["video", str(gif), "-o", str(out), "--model", "mini", "--octaves", "1", "--steps", "2",
                 "--no-progress"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{t:06d}.png" for t in range(4)]
    assert read_params(out / "000001.png")["fps"] == "20"  # 50 ms per frame
    assert main(["video", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o.mp4"), "--model", "mini"]) == 2
    assert "video not found" in capsys.readouterr().err
    assert main(["video", str(gif), "-o", str(tmp_path / "o.txt"), "--model", "mini"]) == 2
    assert "is not a video" in capsys.readouterr().err


def test_no_flow_frames_run_as_a_dask_batch_and_match_the_generator(frames, net, tmp_path):
    pytest.importorskip("distributed")
    clip = tmp_path / "clip"
    clip.mkdir()
    for t, f in enumerate(frames[:4]):
        Image.fromarray(f).save(clip / f"{t:03d}.png")
    out = tmp_path / "out"
    assert render(str(clip), str(out), {"model": "mini"}, flow=None, seed=5, workers=2, model="mini",
                  **DREAM) == 4
    expected = list(video(frames[:4], flow=None, seed=5, model=net, **DREAM))
    for t in range(4):
        np.testing.assert_array_equal(np.asarray(Image.open(out / f"{t:06d}.png")), expected[t])
