"""Per account, the planned count of every resource with a default quota, beside the quota.

The quotas and their sources live in one data file, ``account_quotas.yaml``. Counts are summed over
every planned stack of an account (platform and serving stacks alike); a per-VPC, per-bus quota reports
its fullest VPC or bus.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

QUOTAS_FILE = Path(__file__).with_name("account_quotas.yaml")
#: Share of a quota from which a row is flagged as needing an increase before growing further.
NEAR = 0.8


@dataclass(frozen=True)
class AccountQuota:
    name: str
    code: str | None
    default: int
    scope: str
    count: tuple[str, ...]
    source: str
    verified: bool
    where: tuple[tuple[str, str], ...] = ()
    per: str | None = None


def load_quotas(path: Path = QUOTAS_FILE) -> list[AccountQuota]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [AccountQuota(name=e["name"], code=e.get("code"), default=int(e["default"]), scope=e["scope"],
                         count=tuple(e["count"]), source=e["source"], verified=bool(e.get("verified")),
                         where=tuple(sorted((e.get("where") or {}).items())), per=e.get("per"))
            for e in entries]


@dataclass(frozen=True)
class QuotaRow:
    account: str
    stacks: tuple[str, ...]
    quota: AccountQuota
    used: int

    @property
    def share(self) -> float:
        return self.used / self.quota.default

    @property
    def status(self) -> str:
        return "OVER" if self.used > self.quota.default else "raise" if self.share >= NEAR else "ok"


def _group_key(record, per: str | None) -> str:
    if per is None:
        return ""
    urns = record.property_dependencies.get(per) or []
    if len(urns) == 1:
        return urns[0]
    value = record.inputs.get(per)
    return "default" if value is None and per == "eventBusName" else str(value)


def quota_rows(plans: Mapping[str, Any], quotas: list[AccountQuota] | None = None) -> list[QuotaRow]:
    """One row per account and quota the account's plans use (``plans``: ``harness.StackPlan`` by name)."""
    quotas = quotas if quotas is not None else load_quotas()
    stacks_of: dict[str, list[str]] = defaultdict(list)
    for name, plan in plans.items():
        stacks_of[plan.account_id].append(name)
    rows = []
    for account, stacks in sorted(stacks_of.items()):
        records = [r for name in stacks for r in plans[name].resources if r.custom]
        for quota in quotas:
            groups: dict[str, int] = defaultdict(int)
            for record in records:
                if record.type in quota.count and all(str(record.inputs.get(k)) == v for k, v in quota.where):
                    groups[_group_key(record, quota.per)] += 1
            if groups:
                rows.append(QuotaRow(account, tuple(stacks), quota, max(groups.values())))
    return rows


def render_rows(rows: list[QuotaRow], title: str = "") -> str:
    """A Markdown table: account, quota, planned, default, share, Service Quotas code, status."""
    lines = [f"### {title}", ""] if title else []
    lines += ["| Account (stacks) | Quota | Planned | Default | Share | Code | Status |",
              "|---|---|---|---|---|---|---|"]
    for row in rows:
        stacks = ", ".join(row.stacks[:3]) + (f" +{len(row.stacks) - 3} more" if len(row.stacks) > 3 else "")
        code = row.quota.code or "look up"
        mark = "" if row.quota.verified else " (unverified)"
        lines.append(f"| {row.account} ({stacks}) | {row.quota.name}{mark} | {row.used:,} | {row.quota.default:,} | "
                     f"{row.share:.0%} | {code} | {row.status} |")
    return "\n".join(lines) + "\n"
