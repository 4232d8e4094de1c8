"""SageMaker instance families whose storage is NVMe instance store, not an EBS volume.

On these SageMaker mounts the instance's own NVMe SSDs (hardware-encrypted) and attaches no ML
storage volume, so it rejects a volume KMS key (``KmsKeyId``/``VolumeKmsKeyId``); on every other
family the volume is EBS and the key must be given. No SDK model carries instance storage (botocore's
SageMaker model only names the instance types), so the list is kept here by hand, one source for the
serving component (``components/model_endpoint.py``). The policy pack imports nothing of ours and
keeps its own copy (``mlops_guard.allowlists.DEFAULT_NVME_INSTANCE_TYPES``);
``tests/serving/test_instance_storage.py`` holds the two equal.

Sources, per entry:

* ``EC2-UG``: the EC2 User Guide's instance store volume table ("Instance store volumes",
  awsdocs/amazon-ec2-user-guide ``doc_source/InstanceStorage.md`` at d289961, May 2023): the family's
  types are listed with "NVMe SSD" volumes. Families in SageMaker's instance-type enums but absent
  from that table (``ml.inf1``, ``ml.inf2``, ``ml.c5``, ``ml.m5``, ``ml.p3``...) are EBS-only.
* ``EC2-IT``: families launched after that table; the EC2 Instance Types guide's "Instance store
  specifications" (docs.aws.amazon.com/ec2/latest/instancetypes/) lists NVMe SSD instance store for
  them. Not readable offline here: confirm in a sandbox (docs/verify-in-sandbox.md).

Where a family is left out in doubt (``ml.g7``, ``ml.g7e``, ``ml.p6-b300``, ``ml.p6e-gb200``), the
key is set and a wrong guess fails loudly at CreateEndpointConfig instead of dropping the key.
"""

from __future__ import annotations

NVME_INSTANCE_FAMILIES: dict[str, str] = {
    "ml.c5d": "EC2-UG: c5d.* NVMe SSD",
    "ml.c6gd": "EC2-UG: c6gd.* NVMe SSD",
    "ml.dl1": "EC2-UG: dl1.24xlarge 4 x 1000 GB NVMe SSD",
    "ml.g4dn": "EC2-UG: g4dn.* NVMe SSD",
    "ml.g5": "EC2-UG: g5.* NVMe SSD",
    "ml.m5d": "EC2-UG: m5d.* NVMe SSD",
    "ml.m6gd": "EC2-UG: m6gd.* NVMe SSD",
    "ml.p3dn": "EC2-UG: p3dn.24xlarge 2 x 900 GB NVMe SSD",
    "ml.p4d": "EC2-UG: p4d.24xlarge 8 x 1000 GB NVMe SSD",
    "ml.p4de": "EC2-UG: p4de.24xlarge 8 x 1000 GB NVMe SSD",
    "ml.r5d": "EC2-UG: r5d.* NVMe SSD",
    "ml.r6gd": "EC2-UG: r6gd.* NVMe SSD",
    "ml.trn1": "EC2-UG: trn1.* NVMe SSD",
    "ml.trn1n": "EC2-UG: trn1n.32xlarge 4 x 1900 GB NVMe SSD",
    "ml.g6": "EC2-IT: g6.* NVMe SSD",
    "ml.g6e": "EC2-IT: g6e.* NVMe SSD",
    "ml.p5": "EC2-IT: p5.48xlarge 8 x 3840 GB NVMe SSD",
    "ml.p5e": "EC2-IT: p5e.48xlarge 8 x 3840 GB NVMe SSD",
    "ml.p5en": "EC2-IT: p5en.48xlarge 8 x 3840 GB NVMe SSD",
    "ml.p6-b200": "EC2-IT: p6-b200.48xlarge 8 x 3840 GB NVMe SSD",
    "ml.r7gd": "EC2-IT: r7gd.* NVMe SSD",
    "ml.trn2": "EC2-IT: trn2.48xlarge 4 x 1900 GB NVMe SSD",
}


def instance_family(instance_type: str) -> str:
    """``ml.g5.xlarge`` -> ``ml.g5``."""
    return instance_type.rsplit(".", 1)[0]


def has_nvme_instance_store(instance_type: str) -> bool:
    """Whether SageMaker gives ``instance_type`` NVMe instance store instead of an EBS ML volume."""
    return instance_family(instance_type) in NVME_INSTANCE_FAMILIES
