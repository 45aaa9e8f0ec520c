"""Large-job throughput: batch images/s on 1 vs 2 Dask workers, and video frames/s with optical flow.

    python -m benchmarks.video_batch                 # 16 images 224x224, a 320x240 clip of 24 frames, mini
    python -m benchmarks.video_batch --images 32 --frames 48 --model googlenet

The batch is timed on a LocalCluster that is already running and has loaded the model in
every worker (a 2-image warm-up batch), so the numbers are the steady-state throughput;
cluster start-up (about a second per worker here) comes on top once per job. The video
is dreamed through minidream.video with the CLI's defaults (4 octaves, 10 steps for the
first frame, 3 steps per frame after it, blend 0.8, DIS flow); the optical-flow share is
timed separately on the same frames.
"""
import argparse
import os
import tempfile
import time
import warnings

import minidream
import numpy as np
from PIL import Image

from minidream.jobs.batches import batch
from minidream.jobs.flow import carry_detail
from minidream.jobs.videos import video

DREAM = dict(octaves=4, steps=10, seed=0)


def textured(size, seed):
    w, h = size
    noise = np.random.default_rng(seed).uniform(0, 255, size=(h // 8, w // 8, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(noise).resize((w, h), Image.BICUBIC))


def batch_rate(model, count, size, workers, folder):
    from distributed import Client, LocalCluster

    from minidream.jobs.cluster import WORKER_ENV

    for i in range(count):
        Image.fromarray(textured(size, i)).save(f"{folder}/in/{i:03d}.png")
    with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                      env=WORKER_ENV) as cluster, Client(cluster):
        address = cluster.scheduler_address
        batch([f"{folder}/in/000.png", f"{folder}/in/001.png"], f"{folder}/warm{workers}", model=model,
              scheduler=address, progress=False, **DREAM)
        start = time.perf_counter()
        report = batch(f"{folder}/in", f"{folder}/out{workers}", model=model, scheduler=address, progress=False,
                       **DREAM)
        seconds = time.perf_counter() - start
    assert len(report.written) == count, report.failed
    return count / seconds


def video_rate(model, frames, size):
    net = minidream.load_model(model)
    w, h = size
    tex = textured((w + 4 * frames, h + 2 * frames), 99)
    clip = [tex[2 * t:2 * t + h, 4 * t:4 * t + w].copy() for t in range(frames)]
    start = time.perf_counter()
    outs = list(video(clip, blend=0.8, steps_per_frame=3, flow="dis", model=net, progress=False, **DREAM))
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    for t in range(1, frames):
        carry_detail(clip[t - 1], outs[t - 1], clip[t], 0.8)
    flow_seconds = time.perf_counter() - start
    drift = max(abs(float(o.mean()) - float(f.mean())) for o, f in zip(outs, clip))
    return frames / seconds, flow_seconds / (frames - 1), drift


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mini")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--image-size", default="224x224")
    parser.add_argument("--frames", type=int, default=24)
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.image_size.split("x"))
    warnings.simplefilter("ignore")  # small images drop octaves for deep layers; that is fine here
    with tempfile.TemporaryDirectory() as folder:
        os.makedirs(f"{folder}/in")
        rates = {n: batch_rate(args.model, args.images, size, n, folder) for n in (1, 2)}
    print(f"batch, {args.images} images {args.image_size}, {args.model}, octaves 4 x 10 steps:")
    for n, rate in rates.items():
        print(f"  {n} worker{'s' if n > 1 else ' '}  {rate:6.2f} images/s   ({rate / rates[1]:.2f}x)")
    fps, flow_s, drift = video_rate(args.model, args.frames, (320, 240))
    print(f"video, {args.frames} frames 320x240, {args.model}, flow: {fps:.2f} frames/s "
          f"(flow + warp {1000 * flow_s:.0f} ms/frame; largest |brightness drift| {drift:.2f} levels)")


if __name__ == "__main__":
    main()
