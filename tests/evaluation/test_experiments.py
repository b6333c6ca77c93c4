"""Every bundle has an experiment with claims against named arms, and a model card that reproduce can update."""

from __future__ import annotations

import pytest

from monai_xrgan.evaluation.experiments import BUNDLES as EXPERIMENT_BUNDLES
from monai_xrgan.evaluation.experiments import experiment_for
from monai_xrgan.evaluation.runner import CARD_BEGIN, CARD_END
from monai_xrgan.utils.errors import ConfigError

from helpers.bundles import BUNDLES, bundle_names


def test_every_bundle_has_an_experiment():
    assert sorted(EXPERIMENT_BUNDLES) == bundle_names()


@pytest.mark.parametrize("name", bundle_names())
def test_experiment_claims_and_card_markers(name):
    experiment = experiment_for(BUNDLES / name)
    assert experiment.bundle == name and experiment.claims and experiment.notes
    for claim in experiment.claims:
        assert claim.arm != claim.baseline and claim.metric
        assert (claim.threshold is None) == (claim.baseline != "threshold")
    card = (BUNDLES / name / "docs" / "README.md").read_text(encoding="utf-8")
    assert card.count(CARD_BEGIN) == 1 and card.count(CARD_END) == 1 and card.index(CARD_BEGIN) < card.index(CARD_END)


def test_a_renamed_copy_is_found_by_its_metadata_and_an_unknown_bundle_is_refused(tmp_path):
    import shutil

    copy = tmp_path / "my_pix2pix"
    shutil.copytree(BUNDLES / "pix2pix_cxr" / "configs", copy / "configs")
    assert experiment_for(copy).bundle == "pix2pix_cxr"
    (copy / "configs" / "metadata.json").write_text('{"name": "something else"}')
    with pytest.raises(ConfigError, match="no experiment"):
        experiment_for(copy)
