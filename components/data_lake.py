"""The DATA account's lake storage, keys and Glue plumbing, shared by every data set.

Builds:

* the **data key** (customer-managed KMS): encrypts the lake buckets, the Glue Data Catalog, the
  Glue security configuration (S3, CloudWatch Logs, job bookmarks) and the HMAC secret. Its policy
  lets the Lake Formation registration role, the ETL role and the deploy role use it, CloudWatch
  Logs encrypt Glue's log groups, and the consumer project roles in EXP decrypt catalog metadata
  through Glue only (an SSE-KMS catalog is read with the caller's own key permissions);
* three SecureBuckets: ``raw`` (landing zone, holds PII), ``curated`` (pseudonymised tables) and
  ``etl`` (Glue script, the ``mlops_etl`` zip and the job's temporary files);
* the **Lake Formation registration role**: Lake Formation assumes it to vend short-lived S3
  credentials for the registered buckets, so it reads and writes them and uses the data key;
* the **ETL role** the Glue jobs run as;
* Glue **Data Catalog encryption settings** and a **security configuration**;
* a Glue **NETWORK connection** in the DATA VPC: a security group whose only ingress is from
  itself (Glue workers talk to each other), egress to itself, to the interface endpoints
  (HTTPS to the VPC) and to S3 through the gateway endpoint's prefix list;
* the **HMAC secret** for pseudonymisation (no value: see ``docs/data.md``, "HMAC key").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.encryption import KEY_USE_ACTIONS, KeyUser, PlatformKey, PlatformKeyArgs, ServiceUse
from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.secure_bucket import SecureBucket, SecureBucketArgs

#: Network interfaces Glue creates for a NETWORK connection carry this tag key.
GLUE_ENI_TAG_KEY = "aws-glue-service-resource"


@dataclass
class DataLakeArgs:
    """Inputs of a :class:`DataLake`."""

    account_id: str
    """The DATA account."""
    region: str
    name_prefix: str
    """Prefix of physical names (the platform name), e.g. ``mlops``."""
    key_alias: str
    """Alias of the data key (``alias/<platform>-data``)."""
    bucket_names: dict[str, str]
    """Physical bucket name per zone: ``raw``, ``curated`` and ``etl`` (all three required)."""
    access_log_bucket: pulumi.Input[str]
    """The account's access-log bucket."""
    deploy_role_arn: str
    """The role the stack's provider assumes: uploads sample data and the ETL package (needs the key)."""
    registration_role_name: str
    """Name of the Lake Formation registration role (naming convention)."""
    etl_role_name: str
    """Name of the Glue ETL role (naming convention)."""
    database_names: list[str]
    """Glue databases of the data sets; the ETL role reads and writes only these."""
    hmac_secret_name: str
    """Secrets Manager name of the pseudonymisation key."""
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets of the DATA VPC; the connection uses the first."""
    s3_prefix_list_id: pulumi.Input[str]
    """Prefix list of the S3 gateway endpoint (egress to S3 without internet)."""
    catalog_readers: list[KeyUser] = field(default_factory=list)
    """Consumer principals (EXP project roles) that decrypt catalog metadata through Glue."""


def registration_trust_policy() -> dict[str, Any]:
    """Lake Formation assumes the registration role to vend credentials.

    No ``aws:SourceAccount`` condition: AWS documents this trust without one and does not say that
    Lake Formation sends the key, so a condition could silently break credential vending. The
    confused-deputy risk is closed elsewhere: registering a location with a role needs
    ``iam:PassRole`` on that role, which only principals of this account can have.
    """
    return policy_document(
        [statement("LakeFormationAssumeRole", ["sts:AssumeRole"], None, principal={"Service": "lakeformation.amazonaws.com"})]
    )


def registration_role_policy(bucket_arns: list[str], key_arn: str) -> dict[str, Any]:
    """What Lake Formation may do with the registration role: the lake buckets and the data key."""
    return policy_document(
        [
            statement("ListLakeBuckets", ["s3:GetBucketLocation", "s3:ListBucket"], bucket_arns),
            statement(
                "ReadWriteLakeObjects",
                ["s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                [f"{arn}/*" for arn in bucket_arns],
            ),
            statement("UseDataKey", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], key_arn),
        ]
    )


def etl_role_policy(
    *,
    account_id: str,
    region: str,
    database_names: list[str],
    raw_bucket_arn: str,
    curated_bucket_arn: str,
    etl_bucket_arn: str,
    secret_arn: str,
    key_arn: str,
    connection_name: str,
) -> dict[str, Any]:
    """The Glue job role's permissions (see ``etl/curate_dataset.py`` for why each is needed)."""
    catalog = f"arn:aws:glue:{region}:{account_id}"
    eni = f"arn:aws:ec2:{region}:{account_id}"
    return policy_document(
        [
            statement(
                "ReadCatalog",
                ["glue:GetDatabase", "glue:GetPartition", "glue:GetPartitions", "glue:GetTable", "glue:GetTables"],
                [f"{catalog}:catalog"]
                + [f"{catalog}:database/{db}" for db in database_names]
                + [f"{catalog}:table/{db}/*" for db in database_names],
            ),
            # The job resolves its NETWORK connection (subnet, security group) with its own role.
            statement("ReadConnection", ["glue:GetConnection"], [f"{catalog}:catalog", f"{catalog}:connection/{connection_name}"]),
            # --enable-metrics: job metrics in the Glue namespace only.
            statement(
                "JobMetrics",
                ["cloudwatch:PutMetricData"],
                "*",
                condition={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            ),
            # Lake Formation vends S3 credentials for registered locations; the action has no resource type.
            statement("LakeFormationCredentials", ["lakeformation:GetDataAccess"], "*"),
            statement("ListLakeBuckets", ["s3:GetBucketLocation", "s3:ListBucket"], [raw_bucket_arn, curated_bucket_arn, etl_bucket_arn]),
            statement("ReadRawAndEtlAssets", ["s3:GetObject"], [f"{raw_bucket_arn}/*", f"{etl_bucket_arn}/*"]),
            statement(
                "WriteCuratedAndTemp",
                ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                [f"{curated_bucket_arn}/*", f"{etl_bucket_arn}/tmp/*"],
            ),
            statement("ReadHmacKey", ["secretsmanager:GetSecretValue"], secret_arn),
            statement("UseDataKey", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], key_arn),
            statement(
                "GlueLogs",
                ["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                [f"arn:aws:logs:{region}:{account_id}:log-group:/aws-glue/*"],
            ),
            # A NETWORK connection runs the job's workers on ENIs in the DATA VPC.
            statement(
                "DescribeNetwork",
                [
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeRouteTables",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcAttribute",
                    "ec2:DescribeVpcEndpoints",
                    "ec2:DescribeVpcs",
                ],
                "*",
            ),
            statement(
                "ManageJobNetworkInterfaces",
                ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
                [f"{eni}:network-interface/*", f"{eni}:subnet/*", f"{eni}:security-group/*"],
            ),
            statement(
                "TagJobNetworkInterfaces",
                ["ec2:CreateTags", "ec2:DeleteTags"],
                f"{eni}:network-interface/*",
                condition={"ForAllValues:StringEquals": {"aws:TagKeys": [GLUE_ENI_TAG_KEY]}},
            ),
        ]
    )


def connection_name(args: DataLakeArgs) -> str:
    """The Glue NETWORK connection's name."""
    return f"{args.name_prefix}-data-vpc"


def data_key_args(args: DataLakeArgs) -> PlatformKeyArgs:
    """The data key's users and services (pure; tested without Pulumi)."""
    account = args.account_id
    local_roles = KeyUser(
        account,
        sorted(
            [
                args.deploy_role_arn,
                f"arn:aws:iam::{account}:role/{args.registration_role_name}",
                f"arn:aws:iam::{account}:role/{args.etl_role_name}",
            ]
        ),
    )
    return PlatformKeyArgs(
        account_id=account,
        alias=args.key_alias,
        description=f"{args.name_prefix} data lake: buckets, Glue catalog and jobs, pseudonymisation key",
        users=[local_roles, *args.catalog_readers],
        services=[
            ServiceUse(
                f"logs.{args.region}.amazonaws.com",
                KEY_USE_ACTIONS,
                {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{args.region}:{account}:log-group:/aws-glue/*"}},
            )
        ],
    )


class DataLake(pulumi.ComponentResource):
    """Key, buckets, roles, Glue encryption and network plumbing of the DATA account's lake."""

    key: PlatformKey
    buckets: dict[str, SecureBucket]
    registration_role: aws.iam.Role
    etl_role: aws.iam.Role
    hmac_secret: aws.secretsmanager.Secret
    security_configuration: aws.glue.SecurityConfiguration
    catalog_encryption: aws.glue.DataCatalogEncryptionSettings
    """Every database and table of the catalog must depend on it (written before, they are stored unencrypted)."""
    connection: aws.glue.Connection
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:data:DataLake", name, None, opts)
        missing = {"raw", "curated", "etl"} - set(args.bucket_names)
        if missing:
            raise ValueError(f"DataLakeArgs.bucket_names lacks {', '.join(sorted(missing))}")
        here = pulumi.ResourceOptions(parent=self)

        self.key = PlatformKey(f"{name}-key", data_key_args(args), opts=here)
        self.buckets = {
            zone: SecureBucket(
                f"{name}-{zone}",
                SecureBucketArgs(
                    bucket_name=args.bucket_names[zone],
                    kms_key_arn=self.key.arn,
                    access_log_bucket=args.access_log_bucket,
                    data_bearing=True,
                    tags={"mlops:lake-zone": zone},
                ),
                opts=here,
            )
            for zone in ("raw", "curated", "etl")
        }

        self.registration_role = self._registration_role(name, args)
        self.hmac_secret = aws.secretsmanager.Secret(
            f"{name}-hmac-key",
            aws.secretsmanager.SecretArgs(
                name=args.hmac_secret_name,
                description="HMAC-SHA256 key for pseudonymising PII columns (>= 32 random bytes; set once, see docs/data.md)",
                kms_key_id=self.key.arn,
                recovery_window_in_days=30,
            ),
            # Losing the key makes every pseudonym unlinkable to new data: never delete it by accident.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.etl_role = self._etl_role(name, args)

        self.catalog_encryption = aws.glue.DataCatalogEncryptionSettings(
            f"{name}-catalog-encryption",
            aws.glue.DataCatalogEncryptionSettingsArgs(
                data_catalog_encryption_settings=aws.glue.DataCatalogEncryptionSettingsDataCatalogEncryptionSettingsArgs(
                    encryption_at_rest=aws.glue.DataCatalogEncryptionSettingsDataCatalogEncryptionSettingsEncryptionAtRestArgs(
                        catalog_encryption_mode="SSE-KMS", sse_aws_kms_key_id=self.key.arn
                    ),
                    connection_password_encryption=aws.glue.DataCatalogEncryptionSettingsDataCatalogEncryptionSettingsConnectionPasswordEncryptionArgs(
                        return_connection_password_encrypted=True, aws_kms_key_id=self.key.arn
                    ),
                )
            ),
            opts=here,
        )
        self.security_configuration = aws.glue.SecurityConfiguration(
            f"{name}-security-configuration",
            aws.glue.SecurityConfigurationArgs(
                name=f"{args.name_prefix}-data",
                encryption_configuration=aws.glue.SecurityConfigurationEncryptionConfigurationArgs(
                    s3_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationS3EncryptionArgs(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=self.key.arn
                    ),
                    cloudwatch_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationCloudwatchEncryptionArgs(
                        cloudwatch_encryption_mode="SSE-KMS", kms_key_arn=self.key.arn
                    ),
                    job_bookmarks_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationJobBookmarksEncryptionArgs(
                        job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=self.key.arn
                    ),
                ),
            ),
            opts=here,
        )
        self.connection = self._network_connection(name, args)
        self.register_outputs(
            {
                "keyArn": self.key.arn,
                "bucketNames": {zone: bucket.name for zone, bucket in self.buckets.items()},
                "registrationRoleArn": self.registration_role.arn,
                "etlRoleArn": self.etl_role.arn,
                "hmacSecretArn": self.hmac_secret.arn,
                "connectionName": self.connection.name,
            }
        )

    # ----------------------------------------------------------------------------------------

    def _registration_role(self, name: str, args: DataLakeArgs) -> aws.iam.Role:
        lake_buckets = [self.buckets["raw"].arn, self.buckets["curated"].arn]
        return role_with_policy(
            f"{name}-registration-role",
            role_name=args.registration_role_name,
            description="Lake Formation vends S3 credentials for the registered lake buckets with this role",
            trust_policy=registration_trust_policy(),
            policy_resource_name=f"{name}-registration-access",
            policy=pulumi.Output.all(*lake_buckets, self.key.arn).apply(
                lambda values: registration_role_policy(list(values[:-1]), values[-1])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).role

    def _etl_role(self, name: str, args: DataLakeArgs) -> aws.iam.Role:
        return role_with_policy(
            f"{name}-etl-role",
            role_name=args.etl_role_name,
            description="Glue ETL jobs that curate (pseudonymise) the lake's data sets",
            trust_policy=service_trust_policy("glue.amazonaws.com", args.account_id),
            policy_resource_name=f"{name}-etl-access",
            policy=pulumi.Output.all(
                self.buckets["raw"].arn,
                self.buckets["curated"].arn,
                self.buckets["etl"].arn,
                self.hmac_secret.arn,
                self.key.arn,
            ).apply(
                lambda values: etl_role_policy(
                    account_id=args.account_id,
                    region=args.region,
                    database_names=sorted(args.database_names),
                    raw_bucket_arn=values[0],
                    curated_bucket_arn=values[1],
                    etl_bucket_arn=values[2],
                    secret_arn=values[3],
                    key_arn=values[4],
                    connection_name=connection_name(args),
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).role

    def _network_connection(self, name: str, args: DataLakeArgs) -> aws.glue.Connection:
        group = aws.ec2.SecurityGroup(
            f"{name}-glue-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description="Glue jobs of the data lake: workers talk to each other and to VPC endpoints only",
                tags={"Name": f"{name}-glue-sg"},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_group = pulumi.ResourceOptions(parent=group)
        # Glue requires a self-referencing rule on all TCP ports for its workers.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-glue-sg-from-self",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=group.id,
                referenced_security_group_id=group.id,
                ip_protocol="tcp",
                from_port=0,
                to_port=65535,
                description="Glue workers of the same job",
            ),
            opts=in_group,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-glue-sg-to-self",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=group.id,
                referenced_security_group_id=group.id,
                ip_protocol="tcp",
                from_port=0,
                to_port=65535,
                description="Glue workers of the same job",
            ),
            opts=in_group,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-glue-sg-to-endpoints",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=group.id,
                cidr_ipv4=args.vpc_cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="Interface endpoints (Glue, Lake Formation, KMS, logs, Secrets Manager, STS)",
            ),
            opts=in_group,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-glue-sg-to-s3",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=group.id,
                prefix_list_id=args.s3_prefix_list_id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="S3 through the gateway endpoint",
            ),
            opts=in_group,
        )
        self.security_group_id = group.id
        subnet_id = args.subnet_ids[0]
        # Glue still requires the AZ *name*, which differs per account for the same AZ ID.
        subnet = aws.ec2.get_subnet_output(id=subnet_id, opts=pulumi.InvokeOutputOptions(parent=self))
        return aws.glue.Connection(
            f"{name}-network-connection",
            aws.glue.ConnectionArgs(
                name=connection_name(args),
                connection_type="NETWORK",
                description="Runs the lake's Glue jobs and crawlers in the DATA VPC (no internet path)",
                physical_connection_requirements=aws.glue.ConnectionPhysicalConnectionRequirementsArgs(
                    subnet_id=subnet_id,
                    security_group_id_lists=[group.id],
                    availability_zone=subnet.availability_zone,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
