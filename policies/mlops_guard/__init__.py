"""mlops_guard: the platform's guardrail rules, usable as a CrossGuard pack and as an offline gate.

Public API (what the CLI, the pack entry point and tests use):

- ``registry.ALL_POLICIES`` / ``registry.BY_NAME``: every :class:`model.GuardPolicy` (name,
  description, severity, types, references, remediation, config schema, ``check``).
- ``registry.crossguard_policies()``: the same policies as ``pulumi_policy`` objects.
- ``config.load_pack_config(path)`` / ``config.parse_pack_config(doc, source)`` -> ``PackConfig``;
  ``config.generate_policy_config(role, account_ids, region)``; ``config.generate_all(root)``.
- ``inputs.read_preview_json(path)`` / ``inputs.read_stack_export(path)`` -> ``[StackInput]``;
  ``inputs.from_records(records)`` for harness ``ResourceRecord``s.
- ``engine.evaluate_stack(resources, pack_config, stack=..., project=...)`` -> ``GateResult``.
- ``report.render(result, "text"|"json"|"sarif", default_location=...)``.
"""
