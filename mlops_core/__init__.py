"""The vocabulary every layer of the platform shares, and nothing else.

* :mod:`mlops_core.paths`: where a checkout keeps what (one rule for finding the project root);
* :mod:`mlops_core.roles`: account roles, stages and personas, defined once;
* :mod:`mlops_core.config`: the schema of ``organization.yaml`` and the stack files, and their loading;
* :mod:`mlops_core.naming`: the names the stacks, the serving project, bootstrap and the deployer derive.

This package imports nothing else of ours and declares no resources. Above it: ``components/``, then
the programs (``platform/``, ``serving/``), then the CLI and deployer (``mlops_platform``). The policy
pack (``policies/``, ``mlops_guard``) stands apart and imports none of them.
"""
