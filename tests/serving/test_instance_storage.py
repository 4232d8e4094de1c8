"""One list of NVMe instance-store families: the serving components' and the policy pack's copy agree.

The pack imports nothing of ours, so it keeps its own copy of ``mlops_core.instance_storage``; this
holds the two equal, and every family to one SageMaker really offers (botocore's instance-type enums).
"""

from __future__ import annotations

import botocore.session

from mlops_core.instance_storage import NVME_INSTANCE_FAMILIES, has_nvme_instance_store
from mlops_guard.allowlists import DEFAULT_NVME_INSTANCE_TYPES

INSTANCE_TYPE_SHAPES = ("ProductionVariantInstanceType", "TrainingInstanceType", "ProcessingInstanceType", "TransformInstanceType")


def sagemaker_families() -> set[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return {value.rsplit(".", 1)[0] for shape in INSTANCE_TYPE_SHAPES for value in model.shape_for(shape).enum}


def test_policy_pack_nvme_patterns_are_the_shared_family_list() -> None:
    expected = sorted(f"{family}.*" for family in NVME_INSTANCE_FAMILIES)
    assert sorted(DEFAULT_NVME_INSTANCE_TYPES) == expected, (
        "mlops_guard.allowlists.DEFAULT_NVME_INSTANCE_TYPES differs from mlops_core.instance_storage.NVME_INSTANCE_FAMILIES: "
        f"pack only {sorted(set(DEFAULT_NVME_INSTANCE_TYPES) - set(expected))}, core only {sorted(set(expected) - set(DEFAULT_NVME_INSTANCE_TYPES))}"
    )


def test_every_nvme_family_is_a_sagemaker_instance_family() -> None:
    unknown = sorted(set(NVME_INSTANCE_FAMILIES) - sagemaker_families())
    assert not unknown, f"NVME_INSTANCE_FAMILIES: {unknown} are in none of SageMaker's instance-type enums (botocore)"


def test_every_nvme_family_names_its_source() -> None:
    unsourced = [family for family, source in NVME_INSTANCE_FAMILIES.items() if not source.startswith(("EC2-UG: ", "EC2-IT: "))]
    assert not unsourced, f"NVME_INSTANCE_FAMILIES: {unsourced} name no source (EC2-UG or EC2-IT, see the module docstring)"


def test_inferentia2_has_no_instance_store() -> None:
    assert not has_nvme_instance_store("ml.inf2.xlarge"), "ml.inf2 is EBS-only (absent from the EC2 instance store table)"


def test_families_sagemaker_gives_nvme_storage_are_listed() -> None:
    missing = [t for t in ("ml.g6.xlarge", "ml.g6e.xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.trn2.48xlarge") if not has_nvme_instance_store(t)]
    assert not missing, f"{missing}: NVMe instance store families, SageMaker rejects a volume key there"


def test_a_family_is_matched_whole_not_by_prefix() -> None:
    assert not has_nvme_instance_store("ml.p5x.48xlarge") and has_nvme_instance_store("ml.p5.48xlarge"), (
        "ml.p5 must not match another family that starts with it"
    )
