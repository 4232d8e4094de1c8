"""The Glue catalog is encrypted, and Lake Formation configured, before any entry is written to it.

The engine orders creations by dependencies only (``depends_on`` and inputs). A component's
``depends_on`` is not handed to its children, so each database and table must itself (or through
what it depends on) lead to the catalog's encryption settings and the Lake Formation settings.
"""

from __future__ import annotations

import pytest

from mlops_platform.harness import StackPlan

CATALOG_ENTRIES = ("aws:glue/catalogDatabase:CatalogDatabase", "aws:glue/catalogTable:CatalogTable")


def _upstream(plan: StackPlan, urn: str) -> set[str]:
    """Every URN the resource waits for, following depends_on and input dependencies."""
    by_urn = {r.urn: r for r in plan.resources}
    seen: set[str] = set()
    todo = [urn]
    while todo:
        record = by_urn.get(todo.pop())
        if record is None:
            continue
        for dep in [*record.dependencies, *(u for urns in record.property_dependencies.values() for u in urns)]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


@pytest.mark.parametrize(
    "prerequisite",
    ["aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "aws:lakeformation/dataLakeSettings:DataLakeSettings"],
)
def test_every_catalog_entry_waits_for(data_plan, prerequisite: str) -> None:
    (setting,) = data_plan.of_type(prerequisite)
    entries = [r for kind in CATALOG_ENTRIES for r in data_plan.of_type(kind)]
    assert entries, "the data stack declares databases and tables"
    early = [r.name for r in entries if setting.urn not in _upstream(data_plan, r.urn)]
    assert not early, f"{early} can be written before {setting.name} ({prerequisite.split(':')[-1]})"
