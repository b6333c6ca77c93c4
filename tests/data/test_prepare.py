"""Dataset preparers on small folder trees written in each dataset's published layout (names, nesting, formats).

These are layouts, not the downloads: file counts and image sizes are tiny (JSRT's raw files keep their real size,
the format has no header to say otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from PIL import Image

from monai_xrgan.data import load_datalist
from monai_xrgan.data.prepare import prepare_dataset
from monai_xrgan.data.prepare.__main__ import main
from monai_xrgan.data.prepare.cc_ccii import grey_to_hu
from monai_xrgan.data.prepare.common import split_items
from monai_xrgan.io.ct import write_ct_dicom_series
from monai_xrgan.io.xray import write_dicom, write_png
from monai_xrgan.transforms import CTWindow, LoadCT, LoadXRay
from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError


def png(path: Path, seed: int = 0, size: tuple[int, int] = (24, 20)) -> None:
    write_png(path, np.random.default_rng(seed).random(size))


def paths(content: dict, split: str, key: str) -> list[str]:
    return [item[key] for item in content[split]]


def check_relative(content: dict, root: Path, lists: tuple[str, ...], keys: tuple[str, ...]) -> None:
    """Every path is relative and names an existing file or folder under root."""
    for name in lists:
        for item in content[name]:
            for key in keys:
                if key in item:
                    assert not Path(item[key]).is_absolute()
                    assert (root / item[key]).exists(), item[key]


# --- shared split -----------------------------------------------------------------------------------------------


def test_split_keeps_each_patient_in_one_split():
    items = [{"p": f"p{i // 3}", "label": (i // 3) % 2} for i in range(90)]
    splits = split_items(items, lambda it: it["p"], 0.2, 0.2, seed=1, stratum=lambda it: it["label"])
    owners = {}
    for name, split in splits.items():
        for it in split:
            assert owners.setdefault(it["p"], name) == name
    assert {len({it["p"] for it in s}) for s in splits.values()} == {18, 6}  # 30 patients: 18 / 6 / 6
    assert splits == split_items(items, lambda it: it["p"], 0.2, 0.2, seed=1, stratum=lambda it: it["label"])
    with pytest.raises(ConfigError, match="--val and --test"):
        split_items(items, lambda it: it["p"], 0.6, 0.5, seed=0)


# --- COVID-19 Radiography Database ------------------------------------------------------------------------------


@pytest.fixture
def covid_first_release(tmp_path) -> Path:
    root = tmp_path / "COVID-19 Radiography Database"
    for folder, stem, n in (
        ("COVID-19", "COVID-19", 6),
        ("NORMAL", "NORMAL", 10),
        ("Viral Pneumonia", "Viral Pneumonia", 8),
    ):
        for i in range(1, n + 1):
            png(root / folder / f"{stem} ({i}).png", i)
    return root


@pytest.fixture
def covid_later_release(tmp_path) -> Path:
    root = tmp_path / "COVID-19_Radiography_Dataset"
    for folder, n in (("COVID", 6), ("Normal", 10), ("Viral Pneumonia", 8), ("Lung_Opacity", 3)):
        for i in range(1, n + 1):
            png(root / folder / "images" / f"{folder}-{i}.png", i)
            png(root / folder / "masks" / f"{folder}-{i}.png", i)
        (root / f"{folder}.metadata.xlsx").write_bytes(b"")
    return root


def test_covid19_radiography_both_layouts_drai(covid_first_release, covid_later_release, tmp_path):
    for root, n_covid in ((covid_first_release, 6), (covid_later_release, 6)):
        out = tmp_path / f"{root.name}.json"
        content = prepare_dataset("covid19_radiography", root, out, bundle="drai_cxr", val=0.2, test=0.2)
        assert json.loads(out.read_text()) == content
        labels = [it["label"] for s in ("training", "validation", "test") for it in content[s]]
        assert sorted(labels) == [0] * 10 + [1] * 8 + [2] * n_covid
        assert content["labels"] == {"0": "normal", "1": "viral_pneumonia", "2": "covid"}
        check_relative(content, root, ("training", "validation", "test"), ("image",))
        assert not set(paths(content, "training", "image")) & set(paths(content, "test", "image"))
        items = load_datalist(out, "training", root, keys=["image", "label"])  # what the bundle reads
        assert Path(items[0]["image"]).is_file()
    assert "lung_opacity" in content and len(content["lung_opacity"]) == 3
    assert all("/masks/" not in p for p in paths(content, "training", "image"))


def test_covid19_radiography_pix2pix_unaligned_pairs(covid_later_release, tmp_path):
    content = prepare_dataset("covid19_radiography", covid_later_release, tmp_path / "d.json", bundle="pix2pix_cxr")
    assert content["pairing"].startswith("unaligned")
    for split in ("training", "validation", "test"):
        for pair in content[split]:
            assert pair["image"].startswith("Normal/") and pair["target"].startswith("COVID/")
        assert len(set(paths(content, split, "image"))) == len(content[split])
    assert sum(len(content[s]) for s in ("training", "validation", "test")) == 6
    assert len(content["unpaired_covid"]) == len(content["training"])
    assert {it["label"] for it in content["classification_training"]} == {0, 1, 2}


def test_covid19_radiography_wrong_root(tmp_path):
    (tmp_path / "COVID").mkdir()
    with pytest.raises(MissingInputError, match=r"not a COVID-19 Radiography Database folder .*Expected layout: ROOT/"):
        prepare_dataset("covid19_radiography", tmp_path, tmp_path / "d.json")
    with pytest.raises(MissingInputError, match=r"nowhere: not found; expected the COVID-19 Radiography"):
        prepare_dataset("covid19_radiography", tmp_path / "nowhere", tmp_path / "d.json")


# --- QaTa-COV19 -------------------------------------------------------------------------------------------------


@pytest.fixture
def qata(tmp_path) -> Path:
    root = tmp_path / "QaTa-COV19"
    for i in range(8):
        png(root / "COVID-19" / f"covid_{i}.png", i, (32, 32))
    for j, group in enumerate(("Control_Group_I", "Control_Group_II")):
        for i in range(5):
            png(root / "Control_Group" / group / f"control_{j}_{i}.png", 100 + 10 * j + i, (32, 32))
    return root


def test_qata_blind_degradations_recorded_per_image(qata, tmp_path):
    content = prepare_dataset("qata_cov19", qata, tmp_path / "d.json", val=0.2, test=0.2)
    lq, hq = content["training_lq"], content["training_hq"]
    assert abs(len(lq) - len(hq)) <= 1 and not {it["lq"] for it in lq} & {it["hq"] for it in hq}
    for it in lq + content["validation"] + content["test"]:
        assert it["degradation"] and all(":" in step for step in it["degradation"].split("+"))
    check_relative(content, qata, ("training_lq", "training_hq", "validation", "test"), ("lq", "hq", "image"))
    pair = content["test"][0]
    clean, degraded = LoadXRay()(qata / pair["hq"]), LoadXRay()(qata / pair["image"])
    assert clean.shape == degraded.shape and float((clean - degraded).abs().mean()) > 0.005
    assert {it["label"] for it in lq + hq} == {0, 1}
    assert prepare_dataset("qata_cov19", qata, tmp_path / "e.json", val=0.2, test=0.2) == content  # deterministic


def test_qata_user_lq_list(qata, tmp_path):
    listed = ["COVID-19/covid_0.png", "Control_Group/Control_Group_II/control_1_3.png", "COVID-19/covid_5.png"]
    (tmp_path / "lq.txt").write_text("\n".join(listed) + "\n")
    content = prepare_dataset("qata_cov19", qata, tmp_path / "d.json", lq_list=tmp_path / "lq.txt")
    in_train = {it["lq"] for it in content["training_lq"]}
    assert in_train <= set(listed) and not in_train & {it["hq"] for it in content["training_hq"]}
    assert in_train | {it["image"] for it in content.get("test_real_lq", [])} == set(listed)
    (tmp_path / "bad.txt").write_text("COVID-19/missing.png\n")
    with pytest.raises(MissingInputError, match=r"bad\.txt: names 1 image\(s\) not found .*'COVID-19/missing\.png'"):
        prepare_dataset("qata_cov19", qata, tmp_path / "d.json", lq_list=tmp_path / "bad.txt")


def test_qata_missing_folder_and_unreadable_file(qata, tmp_path):
    (qata / "COVID-19" / "covid_3.png").write_bytes(b"not a png")
    with pytest.raises(InputFileError, match=r"covid_3\.png: cannot be read .*expected a PNG/JPEG chest radiograph"):
        prepare_dataset("qata_cov19", qata, tmp_path / "d.json", val=0.4, test=0.4)
    (qata / "Control_Group").rename(qata / "Other")
    with pytest.raises(MissingInputError, match=r"Control_Group: folder not found .*Expected layout: ROOT/COVID-19"):
        prepare_dataset("qata_cov19", qata, tmp_path / "d.json")


# --- MosMedData -------------------------------------------------------------------------------------------------


def test_mosmeddata(tmp_path):
    root = tmp_path / "COVID19_1110"
    number = 0
    for severity, n in (("CT-0", 5), ("CT-1", 4), ("CT-2", 3), ("CT-3", 3), ("CT-4", 1)):
        for _ in range(n):
            number += 1
            path = root / "studies" / severity / f"study_{number:04d}.nii.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            nib.save(nib.Nifti1Image(np.full((8, 8, 20), -800, np.int16), np.eye(4)), path)
    (root / "masks").mkdir()
    content = prepare_dataset("mosmeddata", root, tmp_path / "d.json", val=0.2, test=0.2, slice_step=3)
    assert content["domain_mapping"] == {"CT-0": "normal", "CT-1": "covid_mild", "CT-2": "covid_mild",
                                         "CT-3": "covid_severe", "CT-4": "covid_severe"}  # fmt: skip
    assert {it["slice"] for it in content["training"]} == {4, 7, 10, 13}  # central 60 % of 20 slices, every 3rd
    volumes = {split: {it["image"] for it in content[split]} for split in ("training", "validation", "test")}
    assert not volumes["training"] & volumes["test"] and not volumes["training"] & volumes["validation"]
    assert {it["domain"] for it in content["training"]} == {0, 2, 3}
    check_relative(content, root, ("training", "test"), ("image",))
    load_datalist(tmp_path / "d.json", "training", root, keys=["image", "slice", "domain"])
    (root / "studies" / "CT-2" / "study_0010.nii.gz").write_bytes(b"broken")
    with pytest.raises(InputFileError, match=r"study_0010\.nii\.gz: cannot be read .*NIfTI CT volume"):
        prepare_dataset("mosmeddata", root, tmp_path / "d.json")


def test_mosmeddata_wrong_root(tmp_path):
    with pytest.raises(MissingInputError, match=r"no CT-0 … CT-4 severity folders\. Expected layout: ROOT/studies"):
        prepare_dataset("mosmeddata", tmp_path, tmp_path / "d.json")


# --- CC-CCII ----------------------------------------------------------------------------------------------------


def test_cc_ccii_volumes_in_hu_and_patient_split(tmp_path):
    root = tmp_path / "CC-CCII"
    rng = np.random.default_rng(0)
    for name in ("NCP", "CP", "Normal"):
        for patient in range(4):
            for scan in range(1 + (patient == 0)):  # patient 0 has two scans
                for k in (1, 2, 10):  # numeric order: 1, 2, 10
                    png(root / name / str(100 + patient) / str(5000 + scan) / f"{k:d}.png", int(rng.integers(1e6)),
                        (16, 12))  # fmt: skip
    content = prepare_dataset("cc_ccii", root, tmp_path / "d.json", val=0.25, test=0.25, slice_step=1)
    assert content["domain_mapping"] == {"Normal": "normal", "CP": "viral_pneumonia", "NCP": "covid_mild"}
    test_volumes = {it["image"] for it in content["test"]}
    train_volumes = {it["image"] for it in content["training"]}
    patient = lambda p: p.split("/")[-3] + "/" + p.split("/")[-2]  # noqa: E731  class/patient
    assert not {patient(p) for p in test_volumes} & {patient(p) for p in train_volumes}
    scans_of_0 = {p for p in test_volumes | train_volumes | {it["image"] for it in content["validation"]}
                  if "/NCP/100/" in p}  # fmt: skip
    assert len(scans_of_0) == 2
    volume_item = content["test"][0]
    volume = LoadCT()(root / volume_item["image"])
    scan_dir = root / Path(volume_item["image"]).relative_to("monai_xrgan_derived/cc_ccii").with_suffix("").with_suffix(
        ""
    )
    first = LoadXRay()(scan_dir / "1.png")  # (X, Y) of the first slice image, in [0, 1]
    grey = np.asarray(Image.open(scan_dir / "1.png").convert("L"), np.float64)
    windowed = (CTWindow()(volume)[0, :, :, 0].numpy() + 1) / 2  # the bundle's lung window back to [0, 1]
    np.testing.assert_allclose(windowed, grey.T / 255.0, atol=1 / 255)
    assert first.shape[1:] == windowed.shape
    np.testing.assert_allclose(grey_to_hu(np.array([0, 255])), [-1350, 150])


def test_cc_ccii_missing_class_folder(tmp_path):
    png(tmp_path / "NCP" / "1" / "1" / "1.png")
    with pytest.raises(MissingInputError, match=r"Normal: folder not found .*Expected layout: ROOT/\{NCP,CP,Normal\}"):
        prepare_dataset("cc_ccii", tmp_path, tmp_path / "d.json")


# --- LIDC-IDRI --------------------------------------------------------------------------------------------------

_NS = "http://www.nih.gov"


def _roi(z: float, sop: str, points: list[tuple[int, int]]) -> str:
    edges = "".join(f"<edgeMap><xCoord>{x}</xCoord><yCoord>{y}</yCoord></edgeMap>" for x, y in points)
    return (f"<roi><imageZposition>{z:.6f} </imageZposition><imageSOP_UID>{sop}</imageSOP_UID>"
            f"<inclusion>TRUE</inclusion>{edges}</roi>")  # fmt: skip


def _nodule(nid: str, rois: list[str], large: bool = True) -> str:
    chars = "<characteristics><subtlety>4</subtlety><malignancy>3</malignancy></characteristics>" if large else ""
    return f"<unblindedReadNodule><noduleID>{nid}</noduleID>{chars}{''.join(rois)}</unblindedReadNodule>"


def _circle(cx: float, cy: float, r: float) -> list[tuple[int, int]]:
    return [
        (round(cx + r * np.cos(a)), round(cy + r * np.sin(a))) for a in np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ]


@pytest.fixture
def lidc(tmp_path) -> Path:
    root = tmp_path / "LIDC-IDRI"
    affine = np.diag([-0.7, -0.7, 2.5, 1.0])  # RAS: 0.7 mm pixels, 2.5 mm slices
    affine[:3, 3] = [100.0, 150.0, -200.0]
    for patient in ("LIDC-IDRI-0001", "LIDC-IDRI-0002", "LIDC-IDRI-0003"):
        series = root / patient / "1.3.6.1.4.1.14519.5.2.1.6279.6001.1" / "1.3.6.1.4.1.14519.5.2.1.6279.6001.2"
        hu = np.full((32, 32, 8), -800.0)
        hu[16:, :, :] = 40.0
        files = write_ct_dicom_series(series, hu, affine, uid_seed=patient)
        slices = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
        z = [float(ds.ImagePositionPatient[2]) for ds in slices]
        sop = [ds.SOPInstanceUID for ds in slices]
        # nodule A (~5.6 mm wide at 0.7 mm/pixel) by readers 1 and 2; B (~4.2 mm) by reader 3 only; C < 3 mm by all
        a0, a1 = ([_roi(z[k], sop[k], _circle(10 + dx, 12, 4)) for k in (3, 4)] for dx in (0, 1))
        b = [_roi(z[6], sop[6], _circle(25, 25, 3))]
        c = [_roi(z[1], sop[1], [(5, 5)])]
        sessions = [
            _nodule("A1", a0) + _nodule("c", c, large=False),
            _nodule("A2", a1) + _nodule("c", c, large=False),
            _nodule("B", b) + _nodule("c", c, large=False),
            "",
        ]
        body = "".join(f"<readingSession><servicingRadiologistID>{i}</servicingRadiologistID>{s}</readingSession>"
                       for i, s in enumerate(sessions))  # fmt: skip
        (series / "069.xml").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?><LidcReadMessage xmlns="{_NS}"><ResponseHeader><SeriesInstanceUid>'
            f"{slices[0].SeriesInstanceUID}</SeriesInstanceUid></ResponseHeader>{body}</LidcReadMessage>"
        )
    cr = root / "LIDC-IDRI-0001" / "1.3.6.1.4.1.14519.5.2.1.6279.6001.9" / "3000522.000000-04919"
    write_dicom(cr / "1-1.dcm", np.random.default_rng(0).random((16, 16)), modality="CR")
    (cr / "158.xml").write_text(f'<IdriReadMessage xmlns="{_NS}"></IdriReadMessage>')
    return root


def test_lidc_consensus_nodules(lidc, tmp_path):
    content = prepare_dataset("lidc_idri", lidc, tmp_path / "d.json", val=0.34, test=0.34)
    assert content["skipped_series"] == 1  # the CR study
    items = content["ct_training"] + content["ct_validation"] + content["ct_test"]
    assert sorted(it["patient"] for it in items) == ["LIDC-IDRI-0001", "LIDC-IDRI-0002", "LIDC-IDRI-0003"]
    check_relative(content, lidc, ("ct_training", "ct_validation", "ct_test"), ("ct",))
    nodules = items[0]["nodules"]
    assert len(nodules) == 1  # A (2 readers); B has one reader, C is < 3 mm
    (nodule,) = nodules
    assert nodule["readers"] == 2
    assert 5.0 < nodule["diameter_mm"] < 6.4  # 8-9 pixels across at 0.7 mm
    col, row, k = nodule["center_voxel"]
    assert abs(col - 10.5) < 0.6 and abs(row - 12) < 0.6 and k in (3, 4)
    volume = LoadCT()(lidc / items[0]["ct"])  # the series loads, LPS: voxel (col, row, k) in file order
    assert tuple(volume.shape) == (1, 32, 32, 8)
    world = volume.affine.numpy() @ np.array([col, row, k, 1.0])  # RAS mm
    assert np.allclose([-world[0], -world[1], world[2]], nodule["center_mm"], atol=2.6)


def test_lidc_corrupt_xml(lidc, tmp_path):
    xml = next(lidc.glob("LIDC-IDRI-0002/*/*/069.xml"))
    xml.write_text("<LidcReadMessage><unclosed>")
    with pytest.raises(InputFileError, match=r"069\.xml: cannot be read .*LIDC XML read"):
        prepare_dataset("lidc_idri", lidc, tmp_path / "d.json")


# --- JSRT -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jsrt(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("jsrt") / "All247images"
    root.mkdir()
    yy, xx = np.mgrid[0:2048, 0:2048]
    for name in ("JPCLN001.IMG", "JPCLN002.IMG", "JPCNN001.IMG", "JPCNN002.IMG", "JPCNN003.IMG"):
        values = (xx * 4095 // 2047).astype(">u2")  # 0 at the left, 4095 at the right, big-endian, no header
        values.tofile(root / name)
    (root / "CLNDAT_EN.txt").write_text(
        "JPCLN001.IMG\t3\t15\t53\tmale\t1634\t692\tmalignant\tl.upper lobe\tlung cancer\n"
        "JPCLN002.IMG\t5\t30\t49\tfemale\t400\t1200\tbenign\tr.lower lobe\thamartoma\n"
    )
    return root


def test_jsrt_raw_files_and_nodule_list(jsrt, tmp_path):
    content = prepare_dataset("jsrt", jsrt, tmp_path / "d.json", val=0.2, test=0.2)
    items = content["training"] + content["validation"] + content["test"]
    assert sorted(it["finding"] for it in items) == ["nodule"] * 2 + ["normal"] * 3
    nodule = next(it for it in items if it["hq"].endswith("JPCLN001.png"))
    assert nodule["nodule"] == [round(1634 / 2048, 5), round(692 / 2048, 5), round(15 / 2 / 0.175 / 2048, 5)]
    assert nodule["nodule_diameter_mm"] == 15 and nodule["subtlety"] == 3
    check_relative(content, jsrt, ("training", "validation", "test"), ("hq",))
    img = LoadXRay()(jsrt / nodule["hq"])  # (1, X, Y), 16-bit PNG: inverted, so the left (value 0) is bright
    assert tuple(img.shape) == (1, 2048, 2048) and img.meta["xray_bits"] == 16
    assert float(img[0, 0, 0]) == pytest.approx(1.0) and float(img[0, -1, 0]) == pytest.approx(0.0)


def test_jsrt_wrong_size_and_missing_list(jsrt, tmp_path):
    bad = tmp_path / "j"
    bad.mkdir()
    (bad / "JPCNN001.IMG").write_bytes(b"\0" * 1000)
    with pytest.raises(InputFileError, match=r"JPCNN001\.IMG: has 1000 bytes, a JSRT image has 8388608"):
        prepare_dataset("jsrt", bad, tmp_path / "d.json")
    (bad / "JPCNN001.IMG").unlink()
    (bad / "JPCLN001.IMG").write_bytes(b"\0" * 8388608)
    with pytest.raises(MissingInputError, match=r"CLNDAT_EN\.txt: JSRT's nodule list not found"):
        prepare_dataset("jsrt", bad, tmp_path / "d.json")


# --- command line -----------------------------------------------------------------------------------------------


def test_command_line(covid_first_release, tmp_path, capsys):
    out = tmp_path / "lists" / "datalist.json"
    assert main(["covid19_radiography", "--root", str(covid_first_release), "--out", str(out), "--seed", "3"]) == 0
    assert "training" in json.loads(out.read_text()) and "--dataset_dir" in capsys.readouterr().out
    assert main(["covid19_radiography", "--root", str(tmp_path / "none"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Expected layout" in err
    with pytest.raises(SystemExit):
        main(["mosmeddata", "--root", str(tmp_path), "--out", str(out), "--lq_list", "x.txt"])
