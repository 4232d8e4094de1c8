"""The RES container registry: platform image repositories, enhanced scanning, a pull-through cache.

Each platform image (``deploy``: the toolchain the release pipeline runs; ``inference``: the custom
serving container) has two repositories:

* ``<p>/quarantine/<image>``: where the image pipeline pushes a fresh build. Nobody else pulls from
  it; images expire after :data:`QUARANTINE_DAYS`.
* ``<p>/<image>``: the released image, promoted only when the scan found no CRITICAL finding.
  Pulled by the principals named per repository (the RES serving deployer for ``deploy``, the stage
  accounts' serving roles for ``inference``), by account root + ``aws:PrincipalArn``.

Every repository: immutable tags, scan on push, the release key, a lifecycle policy and a repository
policy that denies pushes by anyone but the image pipeline role. The registry scans continuously
with Amazon Inspector (enhanced scanning). Isolated builds cannot reach public registries, so base
images come through a pull-through cache rule for ECR Public (``<registry>/ecr-public/...``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy

PUSH_ACTIONS = ["ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"]
PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
#: Released images kept per repository (older tagged images expire).
KEEP_RELEASED_IMAGES = 30
UNTAGGED_DAYS = 7
QUARANTINE_DAYS = 14
#: Base images come from ECR Public (Docker official images are mirrored at public.ecr.aws/docker/library).
PULL_THROUGH_PREFIX = "ecr-public"
PULL_THROUGH_UPSTREAM = "public.ecr.aws"


@dataclass(frozen=True)
class ImagePull:
    """Who may pull an image: principals of one account, by ARN pattern."""

    account_id: str
    principal_arns: list[str]


@dataclass(frozen=True)
class ImageRepositorySpec:
    """One platform image: its quarantine and release repositories."""

    image: str
    """Short name, e.g. ``deploy``."""
    release_name: str
    quarantine_name: str
    pulls: list[ImagePull] = field(default_factory=list)
    """Pulls of the released image (the quarantine repository admits none)."""


@dataclass
class ContainerRegistryArgs:
    """Inputs of a :class:`ContainerRegistry`."""

    account_id: str
    region: str
    platform_name: str
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for every repository (cannot change after creation)."""
    images: list[ImageRepositorySpec]
    pusher_role_arn: str
    """The image pipeline role: the only principal allowed to push."""
    enhanced_scanning: bool = True
    """Inspector continuous scanning of the platform's repositories (else basic scan on push)."""


def release_lifecycle_policy() -> dict[str, Any]:
    """Untagged layers go after a week; the newest released images stay (pure)."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"expire untagged images after {UNTAGGED_DAYS} days",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": UNTAGGED_DAYS},
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"keep the newest {KEEP_RELEASED_IMAGES} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": KEEP_RELEASED_IMAGES},
                "action": {"type": "expire"},
            },
        ]
    }


def quarantine_lifecycle_policy() -> dict[str, Any]:
    """Quarantined builds are evidence for a short while only (pure)."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"expire quarantined images after {QUARANTINE_DAYS} days",
                "selection": {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": QUARANTINE_DAYS},
                "action": {"type": "expire"},
            }
        ]
    }


def repository_policy(pusher_role_arn: str, pulls: list[ImagePull]) -> dict[str, Any]:
    """Pushes only by the image pipeline role; pulls by the named principals (pure)."""
    statements = [
        statement(
            "OnlyTheImagePipelinePushes",
            PUSH_ACTIONS,
            None,
            effect="Deny",
            principal={"AWS": "*"},
            condition={"ArnNotEquals": {"aws:PrincipalArn": pusher_role_arn}},
        )
    ]
    for pull in pulls:
        statements.append(
            statement(
                f"Pull{pull.account_id}",
                PULL_ACTIONS,
                None,
                principal={"AWS": f"arn:aws:iam::{pull.account_id}:root"},
                condition={"ArnLike": {"aws:PrincipalArn": sorted(pull.principal_arns)}},
            )
        )
    return policy_document(statements)


class ContainerRegistry(pulumi.ComponentResource):
    """Quarantine and release repositories per platform image, registry scanning and the base-image cache."""

    repository_urls: dict[str, pulumi.Output[str]]
    """Repository name -> URL."""
    repository_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:registry:ContainerRegistry", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        self.repository_urls, self.repository_arns = {}, {}
        for spec in args.images:
            self._repository(f"{name}-{spec.image}", spec.release_name, args, repository_policy(args.pusher_role_arn, spec.pulls),
                             release_lifecycle_policy())
            self._repository(f"{name}-{spec.image}-quarantine", spec.quarantine_name, args,
                             repository_policy(args.pusher_role_arn, []), quarantine_lifecycle_policy())

        if args.enhanced_scanning:
            # Enhanced scanning is Amazon Inspector's ECR scanning; it must be enabled for the account.
            inspector = aws.inspector2.Enabler(
                f"{name}-inspector",
                aws.inspector2.EnablerArgs(account_ids=[args.account_id], resource_types=["ECR"]),
                opts=here,
            )
            aws.ecr.RegistryScanningConfiguration(
                f"{name}-scanning",
                aws.ecr.RegistryScanningConfigurationArgs(
                    scan_type="ENHANCED",
                    rules=[
                        aws.ecr.RegistryScanningConfigurationRuleArgs(
                            scan_frequency="CONTINUOUS_SCAN",
                            repository_filters=[
                                aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(
                                    filter=f"{args.platform_name}/*", filter_type="WILDCARD"
                                )
                            ],
                        ),
                        aws.ecr.RegistryScanningConfigurationRuleArgs(
                            scan_frequency="SCAN_ON_PUSH",
                            repository_filters=[
                                aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(filter="*", filter_type="WILDCARD")
                            ],
                        ),
                    ],
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[inspector]),
            )

        self._pull_through_cache(name, args)
        self.register_outputs({"repositoryUrls": self.repository_urls})

    def _repository(self, name: str, repository_name: str, args: ContainerRegistryArgs, policy: dict[str, Any],
                    lifecycle: dict[str, Any]) -> None:
        repository = aws.ecr.Repository(
            name,
            aws.ecr.RepositoryArgs(
                name=repository_name,
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.kms_key_arn)
                ],
                force_delete=False,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            aws.ecr.LifecyclePolicyArgs(repository=repository.name, policy=json.dumps(lifecycle)),
            opts=pulumi.ResourceOptions(parent=repository),
        )
        aws.ecr.RepositoryPolicy(
            f"{name}-policy",
            aws.ecr.RepositoryPolicyArgs(repository=repository.name, policy=json.dumps(policy)),
            opts=pulumi.ResourceOptions(parent=repository),
        )
        self.repository_urls[repository_name] = repository.repository_url
        self.repository_arns[repository_name] = repository.arn

    def _pull_through_cache(self, name: str, args: ContainerRegistryArgs) -> None:
        """ECR Public through the registry; cached repositories are created KMS-encrypted from a template."""
        role = role_with_policy(
            f"{name}-cache-template-role",
            role_name=f"{args.platform_name}-ecr-cache-template",
            description="ECR assumes it to create pull-through cache repositories encrypted with the release key",
            trust_policy=service_trust_policy("ecr.amazonaws.com", args.account_id),
            policy_resource_name=f"{name}-cache-template-policy",
            policy=pulumi.Output.from_input(args.kms_key_arn).apply(
                lambda key: policy_document(
                    [
                        statement(
                            "CreateCachedRepositories",
                            ["ecr:CreateRepository", "ecr:PutLifecyclePolicy", "ecr:TagResource"],
                            f"arn:aws:ecr:{args.region}:{args.account_id}:repository/{PULL_THROUGH_PREFIX}/*",
                        ),
                        statement(
                            "EncryptWithTheReleaseKey",
                            ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                            key,
                        ),
                    ]
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).role
        template = aws.ecr.RepositoryCreationTemplate(
            f"{name}-cache-template",
            aws.ecr.RepositoryCreationTemplateArgs(
                prefix=PULL_THROUGH_PREFIX,
                applied_fors=["PULL_THROUGH_CACHE"],
                description="Base images cached from ECR Public, KMS-encrypted",
                custom_role_arn=role.arn,
                encryption_configurations=[
                    aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=args.kms_key_arn
                    )
                ],
                # Upstream tags (python:3.11-slim) move and the cache must follow them; images/base-image.txt
                # can pin a digest.
                image_tag_mutability="MUTABLE",
                lifecycle_policy=json.dumps(release_lifecycle_policy()),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ecr.PullThroughCacheRule(
            f"{name}-ecr-public-cache",
            aws.ecr.PullThroughCacheRuleArgs(
                ecr_repository_prefix=PULL_THROUGH_PREFIX, upstream_registry_url=PULL_THROUGH_UPSTREAM
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[template]),
        )
