from setuptools import find_packages, setup

setup(
    name="minidream",
    version="0.1.0",
    description="DeepDream with a hand-written CNN in NumPy, and CuPy with our own CUDA kernels",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=find_packages(include=["minidream", "minidream.*", "kernels", "weights_tools", "weights_tools.*"]),
    package_data={"minidream": ["data/*"], "kernels": ["*.cu", "*.h"], "weights_tools": ["data/*"]},
    install_requires=["numpy>=1.22", "pillow>=9", "h5py>=3", "tqdm>=4"],
    extras_require={"gpu": ["cupy-cuda13x>=13.6"], "test": ["pytest>=7", "opencv-python-headless>=4.5,<5"]},
    entry_points={"console_scripts": ["minidream=minidream.cli:main"]},
)
