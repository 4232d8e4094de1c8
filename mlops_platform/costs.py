"""The fixed monthly cost a baseline account carries, from the stacks' own endpoint lists.

Only charges that accrue whether or not anyone uses the platform are counted: interface endpoint
hours per AZ and customer-managed keys. Usage-based charges (Config items, GuardDuty, Security Hub
checks, log ingestion, endpoint data processing) are listed in the README without figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.endpoints import interface_endpoints
from mlops_core.config import StackSettings

#: List prices, USD, us-east-1 (AWS PrivateLink and KMS pricing pages, read 2026-11-26 from a stored
#: copy). Most other regions, eu-central-1 among them, charge somewhat more per endpoint-hour.
PRICES_DATE = "2026-11-26"
PRICES_REGION = "us-east-1"
INTERFACE_ENDPOINT_PER_AZ_HOUR = 0.01
KMS_KEY_PER_MONTH = 1.00
HOURS_PER_MONTH = 730
#: Keys every baseline creates (platform and logs).
BASELINE_KEYS = 2


@dataclass(frozen=True)
class FixedCost:
    stack: str
    role: str
    interface_endpoints: int
    azs: int
    endpoint_usd: float
    keys_usd: float

    @property
    def total_usd(self) -> float:
        return round(self.endpoint_usd + self.keys_usd, 2)


def fixed_monthly_cost(settings: StackSettings) -> FixedCost:
    endpoints = len(interface_endpoints(settings.role))
    azs = len(settings.config.az_ids)
    endpoint_usd = round(endpoints * azs * INTERFACE_ENDPOINT_PER_AZ_HOUR * HOURS_PER_MONTH, 2)
    return FixedCost(settings.stack, settings.role, endpoints, azs, endpoint_usd, BASELINE_KEYS * KMS_KEY_PER_MONTH)


def markdown_table(costs: list[FixedCost]) -> str:
    lines = [
        "| Stack | Interface endpoints | AZs | Endpoints (USD/month) | KMS keys (USD/month) | Fixed total (USD/month) |",
        "|---|---|---|---|---|---|",
    ]
    for cost in costs:
        lines.append(
            f"| {cost.stack} | {cost.interface_endpoints} | {cost.azs} | {cost.endpoint_usd:.2f} | "
            f"{cost.keys_usd:.2f} | {cost.total_usd:.2f} |"
        )
    total = sum(c.total_usd for c in costs)
    lines.append(f"| **all** | | | | | **{total:.2f}** |")
    return "\n".join(lines)


README_START, README_END = "<!-- cost-table:start -->", "<!-- cost-table:end -->"


def readme_table(root=None) -> str:
    """The table as the README holds it, for every committed stack."""
    from mlops_core.paths import REPO_ROOT
    from mlops_core.config import load_settings
    from mlops_platform.harness import default_stacks  # the stacks the organisation uses

    root = root or REPO_ROOT
    return markdown_table([fixed_monthly_cost(load_settings(stack, root)) for stack in default_stacks(root)])


def update_readme(path) -> None:
    """Rewrite the README's cost table between its markers (``python -m mlops_platform.costs``)."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    path.write_text(f"{head}{README_START}\n{readme_table()}\n{README_END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    from mlops_core.paths import REPO_ROOT

    update_readme(REPO_ROOT / "README.md")
