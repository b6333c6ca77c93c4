"""Deterministic synthetic demo data: chest radiograph and thorax CT phantoms (:mod:`~monai_xrgan.demo.phantoms`,
:mod:`~monai_xrgan.demo.ct_phantoms`), one dataset recipe per task (:mod:`~monai_xrgan.demo.tasks`) and the
datasets the bundles generate on first use (:func:`monai_xrgan.demo.datasets.ensure_demo_data`;
``python -m monai_xrgan.demo --task pix2pix --out DIR``).

The layer above ``transforms`` and ``data``: nothing below it imports it. Its modules are not imported here, so
that each runs with ``python -m`` without being imported twice.
"""
