from setuptools import find_packages, setup

setup(
    name="minidream",
    version="0.1.0",
    description="DeepDream with a hand-written CNN in NumPy, and CuPy with our own CUDA kernels",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    # kernels/ (the CUDA sources and their loader) installs as minidream.kernels, through the link
    # minidream/kernels -> ../kernels, so no generic top-level "kernels" package lands in site-packages.
    packages=find_packages(include=["minidream", "minidream.*", "weights_tools", "weights_tools.*"]),
    package_data={"minidream.models": ["data/*"], "minidream.kernels": ["*.cu"], "weights_tools": ["data/*"]},
    install_requires=["numpy>=1.22", "pillow>=9", "h5py>=3", "tqdm>=4"],
    extras_require={
        "gpu": ["cupy-cuda13x>=13.6"],
        "video": ["av>=14", "opencv-python-headless>=4.5,<5"],
        "dask": ["dask[distributed]>=2023.1"],
        # The video and batch tests run in CI, so the test extra brings their libraries.
        "test": ["pytest>=7", "av>=14", "opencv-python-headless>=4.5,<5", "dask[distributed]>=2023.1"],
    },
    entry_points={"console_scripts": ["minidream=minidream.cli:main"]},
)
