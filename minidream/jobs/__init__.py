"""Large jobs: videos (optical flow between frames), and batches of images on Dask."""
