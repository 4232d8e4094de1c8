"""Access: the planned platform's IAM documents, the journeys that must (not) be allowed, and their
evaluation by an independent engine (``@cloud-copilot/iam-simulate``, a test-and-CI-only tool)."""
