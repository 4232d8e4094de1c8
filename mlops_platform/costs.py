"""The fixed monthly cost a baseline account carries, counted in the stacks' own plans.

Only charges that accrue whether or not anyone uses the platform are counted: interface endpoint
hours per AZ and customer-managed keys, both counted in each stack's offline plan (so a stack that
plans five keys is charged five). Usage-based charges (Config items, GuardDuty, Security Hub checks,
log ingestion, endpoint data processing) are listed in the README without figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Mapping

from mlops_core.config import StackSettings
from mlops_platform.harness import StackPlan

#: List prices, USD, us-east-1 (AWS PrivateLink and KMS pricing pages, read 2026-11-26 from a stored
#: copy). Most other regions, eu-central-1 among them, charge somewhat more per endpoint-hour.
PRICES_DATE = "2026-11-26"
PRICES_REGION = "us-east-1"
INTERFACE_ENDPOINT_PER_AZ_HOUR = 0.01
KMS_KEY_PER_MONTH = 1.00
HOURS_PER_MONTH = 730
ENDPOINT_TYPE = "aws:ec2/vpcEndpoint:VpcEndpoint"
KEY_TYPE = "aws:kms/key:Key"


@dataclass(frozen=True)
class FixedCost:
    stack: str
    role: str
    interface_endpoints: int
    azs: int
    keys: int
    endpoint_usd: float
    keys_usd: float

    @property
    def total_usd(self) -> float:
        return round(self.endpoint_usd + self.keys_usd, 2)


def fixed_monthly_cost(settings: StackSettings, plan: StackPlan) -> FixedCost:
    """What the stack's planned interface endpoints (per AZ) and customer managed keys cost a month."""
    endpoints = sum(1 for r in plan.of_type(ENDPOINT_TYPE) if r.inputs.get("vpcEndpointType") == "Interface")
    keys = len(plan.of_type(KEY_TYPE))
    azs = len(settings.config.az_ids or [])
    endpoint_usd = round(endpoints * azs * INTERFACE_ENDPOINT_PER_AZ_HOUR * HOURS_PER_MONTH, 2)
    return FixedCost(settings.stack, settings.role, endpoints, azs, keys, endpoint_usd, round(keys * KMS_KEY_PER_MONTH, 2))


def markdown_table(costs: list[FixedCost]) -> str:
    lines = [
        "| Stack | Interface endpoints | AZs | Endpoints (USD/month) | KMS keys | Keys (USD/month) | Fixed total (USD/month) |",
        "|---|---|---|---|---|---|---|",
    ]
    for cost in costs:
        lines.append(
            f"| {cost.stack} | {cost.interface_endpoints} | {cost.azs} | {cost.endpoint_usd:.2f} | {cost.keys} | "
            f"{cost.keys_usd:.2f} | {cost.total_usd:.2f} |"
        )
    total = sum(c.total_usd for c in costs)
    lines.append(f"| **all** | | | | | | **{total:.2f}** |")
    return "\n".join(lines)


README_START, README_END = "<!-- cost-table:start -->", "<!-- cost-table:end -->"


def readme_table(root=None, plans: Mapping[str, StackPlan] | None = None) -> str:
    """The table as the README holds it, for every stack the organisation uses (planned if not given)."""
    from mlops_core.paths import REPO_ROOT
    from mlops_core.config import load_settings
    from mlops_platform.harness import default_stacks, plan_stacks

    root = root or REPO_ROOT
    stacks = default_stacks(root)
    plans = plans if plans is not None else plan_stacks(stacks, root=root)
    return markdown_table([fixed_monthly_cost(load_settings(stack, root), plans[stack]) for stack in sorted(stacks)])


def update_readme(path) -> None:
    """Rewrite the README's cost table between its markers (``python -m mlops_platform.costs``)."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    path.write_text(f"{head}{README_START}\n{readme_table()}\n{README_END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    from mlops_core.paths import REPO_ROOT

    update_readme(REPO_ROOT / "README.md")
