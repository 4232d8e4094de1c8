"""Shared by the report tests: the access checks' JSON fixture (the shape `mlops-platform access
--format json` writes)."""

from __future__ import annotations

from pathlib import Path

ACCESS_JSON = Path(__file__).parent / "fixtures" / "access.json"
