"""CIDR layout of an isolated VPC, as pure functions (tested without Pulumi)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class SubnetPlan:
    az_id: str
    cidr: str


def private_subnets(vpc_cidr: str, az_ids: list[str]) -> list[SubnetPlan]:
    """One private subnet per AZ ID, each a quarter of the VPC (room for a fourth AZ later).

    Quarters keep the layout stable when an AZ is added: existing subnets never move.
    """
    if not 1 <= len(az_ids) <= 4:
        raise ValueError(f"expected 1 to 4 AZ IDs, got {len(az_ids)}")
    quarters = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=2))
    return [SubnetPlan(az_id=az, cidr=str(net)) for az, net in zip(az_ids, quarters)]
