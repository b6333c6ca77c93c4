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
    description="MONAI Bundles for chest X-ray and chest CT generative methods (Pix2Pix, R2C-GAN, MI-GAN, DRAI, DiffusionXRay)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["monai_xrgan", "monai_xrgan.*"]),
    install_requires=[
        # the MONAI extras give: image readers (NIfTI, DICOM, ITK, PIL), Ignite engines, TensorBoard,
        # `python -m monai.bundle` (fire), `verify_metadata` (jsonschema), diffusion attention (einops)
        f"monai[nibabel,pydicom,ignite,itk,tensorboard,fire,jsonschema,einops,pillow,tqdm]=={MONAI_VERSION}",
        "torch>=2.8",
        "numpy>=1.24,<3.0",
    ],
    extras_require={
        # ONNX export of the bundles' networks (python -m monai.bundle onnx_export) and running the result
        "onnx": ["onnx>=1.16", "onnxscript>=0.2", "onnxruntime>=1.18"],
        "test": ["pytest>=7.4", "pytest-timeout>=2.1", "onnx>=1.16", "onnxscript>=0.2", "onnxruntime>=1.18"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: Apache Software License",
        "Topic :: Scientific/Engineering :: Medical Science Apps.",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
