"""Allow-lists shared by several policies, as JSON-schema fragments with their defaults.

Approved image registries are not a hand-written list: they are read from the image URI
configuration the SageMaker Python SDK ships (``sagemaker/core/image_uri_config/*.json``), the same
data ``sagemaker.image_uris.retrieve`` uses, so a new framework image account arrives with an SDK
upgrade.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

_IMAGE_CONFIG_FOLDERS = ("core/image_uri_config", "image_uri_config")  # sagemaker 3.x, 2.x layouts


def _walk_registries(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "registries" and isinstance(value, dict):
                yield from ((region, str(account)) for region, account in value.items())
            else:
                yield from _walk_registries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_registries(item)


def ecr_host(account: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


@lru_cache(maxsize=1)
def sagemaker_image_registries() -> tuple[tuple[str, str], ...]:
    """Sorted ``(region, account)`` pairs of every image registry in the SageMaker SDK's config."""
    pairs: set[tuple[str, str]] = set()
    # Locate the installed package without importing it (importing sagemaker.core takes a second).
    spec = importlib.util.find_spec("sagemaker")
    roots = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    for folder in (root / sub for root in roots for sub in _IMAGE_CONFIG_FOLDERS):
        for entry in sorted(folder.glob("*.json")):
            pairs.update(_walk_registries(json.loads(entry.read_text(encoding="utf-8"))))
        if pairs:
            break
    if not pairs:  # the SDK is a pinned dependency; without it the allow-list would silently be empty
        raise RuntimeError("no SageMaker image URI config found in the installed sagemaker package")
    return tuple(sorted(pairs))


def sagemaker_registry_hosts(regions: Iterable[str] | None = None) -> list[str]:
    """ECR hosts of SageMaker's own images, optionally only for the given regions."""
    wanted = set(regions) if regions is not None else None
    return sorted(
        {ecr_host(account, region) for region, account in sagemaker_image_registries() if wanted is None or region in wanted}
    )


ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")

DEFAULT_NVME_INSTANCE_TYPES = [
    # SageMaker instance families with NVMe instance store: SageMaker rejects a volume KMS key for
    # them (their local volumes are hardware-encrypted). The pack's copy of
    # mlops_core/instance_storage.py's NVME_INSTANCE_FAMILIES (the pack imports nothing of ours; a
    # test keeps the two equal), where each family's source is named. ml.inf1/ml.inf2 are EBS-only.
    "ml.c5d.*",
    "ml.c6gd.*",
    "ml.dl1.*",
    "ml.g4dn.*",
    "ml.g5.*",
    "ml.m5d.*",
    "ml.m6gd.*",
    "ml.p3dn.*",
    "ml.p4d.*",
    "ml.p4de.*",
    "ml.r5d.*",
    "ml.r6gd.*",
    "ml.trn1.*",
    "ml.trn1n.*",
    "ml.g6.*",
    "ml.g6e.*",
    "ml.p5.*",
    "ml.p5e.*",
    "ml.p5en.*",
    "ml.p6-b200.*",
    "ml.r7gd.*",
    "ml.trn2.*",
]

DEFAULT_MANAGED_POLICY_DENYLIST = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
    "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser",
    "arn:aws:iam::aws:policy/SecretsManagerReadWrite",
]

_STRING_LIST = {"type": "array", "items": {"type": "string"}}

PLATFORM_ACCOUNT_IDS = {
    "platformAccountIds": {
        **_STRING_LIST,
        "items": {"type": "string", "pattern": r"^\d{12}$"},
        "default": [],
        "description": "The platform's AWS account IDs; other accounts need an external id.",
    }
}
APPROVED_IMAGE_REGISTRIES = {
    "approvedImageRegistries": {
        **_STRING_LIST,
        "default": sagemaker_registry_hosts(),
        "description": "ECR registry hosts images may come from besides the platform accounts' own ECR "
        "(default: SageMaker's image registries from the SDK's image URI config).",
    }
}
NVME_INSTANCE_TYPES = {
    "nvmeInstanceTypes": {
        **_STRING_LIST,
        "default": DEFAULT_NVME_INSTANCE_TYPES,
        "description": "Instance-type patterns with NVMe instance storage, exempt from volume KMS keys.",
    }
}
MANAGED_POLICY_DENYLIST = {
    "deniedManagedPolicyArns": {
        **_STRING_LIST,
        "default": DEFAULT_MANAGED_POLICY_DENYLIST,
        "description": "AWS managed policies that must never be attached.",
    }
}
