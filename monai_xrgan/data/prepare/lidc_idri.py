"""LIDC-IDRI (Armato et al. 2011; TCIA) → diffusionxray_drr CT volumes with their consensus lung nodules.

Layout (the TCIA download): ``ROOT/LIDC-IDRI-0001/<study>/<series>/`` holding the series' DICOM slices (``*.dcm``)
and the readers' XML file (``LidcReadMessage``, namespace ``http://www.nih.gov``: ``readingSession`` ×4 with
``unblindedReadNodule`` → ``roi`` → ``imageZposition``, ``inclusion``, ``edgeMap`` ``xCoord``/``yCoord`` in pixels).
Series that are not CT (LIDC also holds CR/DX studies) or have no XML are skipped and counted.

Nodules: a reader's nodule counts when it is in LIDC's "nodule ≥ 3 mm" category (it has ``characteristics``) and its
largest in-plane extent (the largest distance between two of its included edge points, in mm) is at least 3 mm.
Readers' nodules are the same nodule when their centres are closer than half the larger diameter (3 mm at least);
a nodule is kept when at least 2 readers marked it (consensus). Its ``center_mm`` is the mean of the readers' centres
in DICOM patient coordinates (LPS, mm), ``center_voxel`` the (column, row, slice) index with slices in increasing z
(the order :class:`~monai_xrgan.transforms.LoadCT` gives with ``axcodes="LPS"``), ``diameter_mm`` the readers' mean.

Lists: ``ct_training``/``ct_validation``/``ct_test`` of ``{"ct", "patient", "nodules"}`` split per patient (the DRR
sources: CT volumes to project, with nodule positions for insertion checks and CNR measurements).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

from monai_xrgan.data.prepare.common import relative, require_dir, split_items, unreadable
from monai_xrgan.utils.errors import InputFileError, MissingInputError

__all__ = ["prepare", "LAYOUT", "read_nodules", "MIN_DIAMETER_MM", "MIN_READERS"]

LAYOUT = "ROOT/LIDC-IDRI-NNNN/<study>/<series>/{*.dcm, NNN.xml} (TCIA LIDC-IDRI)"
MIN_DIAMETER_MM = 3.0
MIN_READERS = 2


def _strip(tree: ET.Element) -> ET.Element:
    for el in tree.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
    return tree


def _headers(folder: Path) -> list[pydicom.Dataset]:
    out = []
    for f in sorted(folder.glob("*.dcm")):
        try:
            out.append(pydicom.dcmread(f, stop_before_pixels=True))
        except Exception as err:
            raise unreadable(f, err, "a DICOM slice of the series") from err
    return out


def _slices(headers: list[pydicom.Dataset], folder: Path) -> list[tuple[float, pydicom.Dataset]]:
    """The CT slices sorted by z, with their z."""
    missing = [ds.filename for ds in headers if "ImagePositionPatient" not in ds or "PixelSpacing" not in ds]
    if missing or len(headers) < 2:
        raise InputFileError(f"{missing[0] if missing else folder}: a CT slice needs ImagePositionPatient and "
                             "PixelSpacing, a series at least 2 slices; the download is incomplete.")  # fmt: skip
    return sorted(((float(ds.ImagePositionPatient[2]), ds) for ds in headers), key=lambda zd: zd[0])


def _reader_nodules(session: ET.Element, spacing: tuple[float, float]) -> list[dict[str, Any]]:
    """The ≥ 3 mm nodules of one reading session: centre (col, row, z) and largest in-plane extent (mm)."""
    nodules = []
    for nodule in session.findall("unblindedReadNodule"):
        if nodule.find("characteristics") is None:
            continue  # LIDC's "< 3 mm" category
        points, zs, diameter = [], [], 0.0
        for roi in nodule.findall("roi"):
            if (roi.findtext("inclusion") or "TRUE").strip().upper() != "TRUE":
                continue
            xy = np.array([[float(e.findtext("xCoord")), float(e.findtext("yCoord"))] for e in roi.findall("edgeMap")])
            if not len(xy):
                continue
            mm = xy * np.array([spacing[1], spacing[0]])  # columns scale with the column spacing
            diameter = max(diameter, float(np.max(np.linalg.norm(mm[:, None] - mm[None], axis=-1))))
            points.append(xy)
            zs.append(float(roi.findtext("imageZposition")))
        if points and diameter >= MIN_DIAMETER_MM:
            col, row = np.concatenate(points).mean(axis=0)
            nodules.append({"col": float(col), "row": float(row), "z": float(np.mean(zs)), "diameter": diameter})
    return nodules


def read_nodules(xml: Path, slices: list[tuple[float, pydicom.Dataset]]) -> list[dict[str, Any]]:
    """Consensus nodules (≥ ``MIN_READERS`` readers, ≥ ``MIN_DIAMETER_MM``) of one series' XML (see module doc)."""
    try:
        root = _strip(ET.parse(xml).getroot())
    except Exception as err:
        raise unreadable(xml, err, "an LIDC XML read (LidcReadMessage)") from err
    first = slices[0][1]
    spacing = tuple(float(v) for v in first.PixelSpacing)
    origin = np.array([float(v) for v in first.ImagePositionPatient])
    found = [
        (s, n) for s, session in enumerate(root.findall("readingSession")) for n in _reader_nodules(session, spacing)
    ]
    parent = list(range(len(found)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def centre(n: dict[str, Any]) -> np.ndarray:
        return np.array([origin[0] + n["col"] * spacing[1], origin[1] + n["row"] * spacing[0], n["z"]])

    for i, (si, a) in enumerate(found):
        for j in range(i):
            sj, b = found[j]
            if si != sj and np.linalg.norm(centre(a) - centre(b)) <= max(a["diameter"], b["diameter"], 6.0) / 2:
                parent[find(i)] = find(j)
    clusters: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for i, member in enumerate(found):
        clusters.setdefault(find(i), []).append(member)
    zs = np.array([z for z, _ in slices])
    out = []
    for members in clusters.values():
        readers = {s for s, _ in members}
        if len(readers) < MIN_READERS:
            continue
        c = np.mean([centre(n) for _, n in members], axis=0)
        col = (c[0] - origin[0]) / spacing[1]
        row = (c[1] - origin[1]) / spacing[0]
        out.append({
            "center_mm": [round(float(v), 3) for v in c],
            "center_voxel": [round(float(col), 2), round(float(row), 2), int(np.argmin(np.abs(zs - c[2])))],
            "diameter_mm": round(float(np.mean([n["diameter"] for _, n in members])), 2),
            "readers": len(readers),
        })  # fmt: skip
    return sorted(out, key=lambda n: n["center_voxel"][2])


def prepare(root: str | Path, val: float = 0.1, test: float = 0.1, seed: int = 0) -> dict[str, Any]:
    """The datalist content for LIDC-IDRI at ``root`` (see the module docstring)."""
    root = require_dir(root, "the LIDC-IDRI folder", LAYOUT)
    patients = sorted(p for p in root.iterdir() if p.is_dir() and p.name.upper().startswith("LIDC-IDRI-"))
    if not patients:
        raise MissingInputError(f"{root}: no LIDC-IDRI-NNNN patient folders. Expected layout: {LAYOUT}")
    items, skipped = [], 0
    for patient in patients:
        for series in sorted({f.parent for f in patient.rglob("*.dcm")}):
            xmls = sorted(series.glob("*.xml"))
            headers = _headers(series)
            if str(headers[0].get("Modality", "")).upper() != "CT" or not xmls:
                skipped += 1
                continue
            nodules = read_nodules(xmls[0], _slices(headers, series))
            items.append({"ct": relative(series, root), "patient": patient.name, "nodules": nodules})
    if not items:
        raise MissingInputError(f"{root}: no CT series with an XML read under the patient folders. Expected layout: "
                                f"{LAYOUT}")  # fmt: skip
    splits = split_items(items, lambda it: it["patient"], val, test, seed)
    return {
        "name": "LIDC-IDRI",
        "nodule_rule": f">= {MIN_DIAMETER_MM} mm, marked by >= {MIN_READERS} of the readers",
        "skipped_series": skipped,
        "split": f"per patient, val {val}, test {test}, seed {seed}",
        **{f"ct_{k}": v for k, v in splits.items()},
    }
