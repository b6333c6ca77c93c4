import numpy as np

from monai_xrgan.transforms.nodules import insert_nodule


def test_insert_nodule_composites_inside_the_mask():
    volume = np.full((40, 40, 40), -900.0, dtype=np.float32)
    within = np.zeros(volume.shape, dtype=bool)
    within[:, :, :20] = True
    out, occupancy = insert_nodule(volume, (2.0, 2.0, 2.0), (20, 20, 19.5), 16.0, 30.0, margin_mm=0.5, within=within)
    assert abs(out[20, 20, 18] - 30.0) < 5 and out[20, 20, 22] == -900.0  # the mask cuts the sphere
    assert out[5, 5, 5] == -900.0 and occupancy.max() <= 1.0
    np.testing.assert_array_equal(volume, -900.0)  # the input is not modified
    lobulated, _ = insert_nodule(
        volume, (2.0,) * 3, (20, 20, 20), 16.0, 30.0, lobulation=0.3, rng=np.random.default_rng(0)
    )
    assert (lobulated != -900.0).any()
