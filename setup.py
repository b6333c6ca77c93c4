"""Packaging for monai_xrgan: MONAI Bundles for chest X-ray / chest CT generative models."""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = "0.1.0"
MONAI_VERSION = "1.6.1"

setup(
    name="monai_xrgan",
    version=VERSION,
    description=(
        "MONAI Bundles for chest X-ray and chest CT generative methods (Pix2Pix, R2C-GAN, MI-GAN, DRAI, DiffusionXRay)"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["monai_xrgan", "monai_xrgan.*"]),
    install_requires=[
        # the MONAI extras give: image readers (NIfTI, DICOM, ITK, PIL), Ignite engines, TensorBoard,
        # `python -m monai.bundle` (fire), `verify_metadata` (jsonschema), diffusion attention (einops), report figures
        # (matplotlib)
        f"monai[nibabel,pydicom,ignite,itk,tensorboard,fire,jsonschema,einops,pillow,tqdm,matplotlib]=={MONAI_VERSION}",
        "torch>=2.8",
        "numpy>=1.24,<3.0",
    ],
    extras_require={
        # ONNX export of the bundles' networks (python -m monai.bundle onnx_export) and running the result
        "onnx": ["onnx>=1.16", "onnxscript>=0.2", "onnxruntime>=1.18"],
        # MONAI Label server (docs/monai_label.md): monailabel itself is installed with `pip install --no-deps
        # monailabel==0.8.5 pydicom-seg==0.4.1`, because its declared requirements would replace the CPU torch
        # (torch 2.15 + CUDA through torchvision/sam2) and pin numpy<2 / jsonschema<4 (pydicom-seg); these are
        # the packages its server imports, found by tracing a running server
        "label": [
            "fastapi>=0.110.2",
            "uvicorn>=0.29.0",
            "pydantic>=2.7.0",
            "pydantic-settings>=2.2.1",
            "python-dotenv>=1.0.1",
            "python-multipart>=0.0.9",
            "requests>=2.31.0",
            "requests-toolbelt>=1.0.0",
            "schedule>=1.2.1",
            "timeloop>=1.0.2",
            "expiring_dict>=1.1.0",
            "cachetools>=5.3.3",
            "watchdog>=4.0.0",
            "filelock>=3.11.0",
            "passlib>=1.7.4",
            "bcrypt>=4.1.2",
            "pyjwt>=2.8.0",
            "psutil>=5.9",
            "dicomweb-client>=0.59.1",
            "google-auth>=2.29.0",
            "girder-client>=3.2.3",
            "pynrrd>=1.0.0",
            "SimpleITK>=2.3",
            "setuptools; python_version >= '3.12'",
        ],  # fmt: skip
        # pydicom-data (MIT): real DICOM test files (compressed syntaxes, LUT sequences, multi-frame, a 2k CR);
        # ruff: tests/architecture/test_style.py runs `ruff check` and `ruff format --check` (pinned: its output is the rule)
        "test": [
            "pytest>=7.4",
            "pytest-timeout>=2.1",
            "onnx>=1.16",
            "onnxscript>=0.2",
            "onnxruntime>=1.18",
            "pydicom-data>=1.0",
            "ruff==0.17.6",
        ],  # fmt: skip
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: Apache Software License",
        "Topic :: Scientific/Engineering :: Medical Science Apps.",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
