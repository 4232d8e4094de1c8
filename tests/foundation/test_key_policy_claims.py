"""What ``components/encryption.py`` says about who may use a key holds for the planned keys.

The module docstring is what a reviewer reads to judge a key's reach. It once said the policy
"names exactly who may use the key" while the platform and logs keys admit ``role/<platform>-*``.
"""

from __future__ import annotations

import json

import components.encryption as encryption


def _patterns(platform_plans) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for plan in platform_plans.values():
        for key in plan.of_type("aws:kms/key:Key"):
            for stmt in json.loads(key.inputs["policy"])["Statement"]:
                arns = stmt.get("Condition", {}).get("ArnLike", {}).get("aws:PrincipalArn", [])
                wild = [a for a in ([arns] if isinstance(arns, str) else arns) if "*" in a]
                if wild:
                    found.setdefault(f"{plan.stack}:{key.name}", []).extend(wild)
    return found


def test_the_module_does_not_claim_exact_principals_while_keys_admit_patterns(platform_plans) -> None:
    patterns = _patterns(platform_plans)
    doc = " ".join((encryption.__doc__ or "").split())
    assert not (patterns and "exactly who" in doc), f"components/encryption.py claims exact principals; keys admit {patterns}"


def test_the_module_names_the_platform_wide_pattern(platform_plans) -> None:
    doc = " ".join((encryption.__doc__ or "").split())
    if any(p.endswith(":role/mlops-*") for ps in _patterns(platform_plans).values() for p in ps):
        assert "role/<platform>-*" in doc, "components/encryption.py does not say the baseline keys admit role/<platform>-*"
