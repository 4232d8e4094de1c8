"""The guardrail rules, one module per area; each policy is one decorated check (``mlops_guard.define``)."""
