"""The endpoint-config encryption policy follows the NVMe instance-store list in both directions."""

from __future__ import annotations

from mlops_guard.engine import check_resource
from mlops_guard.registry import BY_NAME

from .conftest import make_pack_config, resource

CONFIG = make_pack_config()
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


def violations_without_volume_key(instance_type: str) -> list[str]:
    props = {"productionVariants": [{"variantName": "AllTraffic", "modelName": "m", "instanceType": instance_type, "initialInstanceCount": 1}]}
    report = check_resource(BY_NAME["sagemaker-endpoint-config-encrypted"], resource(ENDPOINT_CONFIG, props), CONFIG)
    return [v.message for v in report.violations]


def test_endpoint_config_on_inferentia2_without_volume_key_is_a_violation() -> None:
    assert any("kmsKeyArn" in m for m in violations_without_volume_key("ml.inf2.xlarge")), (
        "sagemaker-endpoint-config-encrypted: ml.inf2 has an EBS volume, its key must be set"
    )


def test_endpoint_config_on_g6_without_volume_key_passes() -> None:
    assert not violations_without_volume_key("ml.g6.xlarge"), (
        "sagemaker-endpoint-config-encrypted: ml.g6 has NVMe instance store, SageMaker rejects a volume key there"
    )
