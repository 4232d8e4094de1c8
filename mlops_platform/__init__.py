"""mlops-platform: the CLI and the deployer of the multi-account MLOps platform (the top layer).

It drives the programs (``platform/``, ``serving/``) through the offline harness and the Automation
API and generates the policy pack's per-role configs. The shared vocabulary (config, naming, roles,
paths) lives in :mod:`mlops_core`; nothing here declares resources by itself.
"""
