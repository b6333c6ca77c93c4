"""Bundle experiments: arms over seeds, claims against floors and controls, ``report.json`` / ``report.md`` /
figures."""

from monai_xrgan.evaluation.report import ClaimSpec, build_report, check_report, evaluate_claim, make_row, write_report
from monai_xrgan.evaluation.runner import Experiment, SeedRun, StepFailedError, reproduce, update_card

__all__ = ["ClaimSpec", "Experiment", "SeedRun", "StepFailedError", "build_report", "check_report", "evaluate_claim",
           "make_row", "reproduce", "update_card", "write_report"]  # fmt: skip
