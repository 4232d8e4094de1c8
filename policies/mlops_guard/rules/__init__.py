"""The guardrail rules, one module per area; ``mlops_guard.registry`` collects their ``POLICIES``."""
