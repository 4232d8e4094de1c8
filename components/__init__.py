"""Reusable, secure-by-default Pulumi ComponentResources of the MLOps platform.

One module per building block. Pure logic (CIDR layout, endpoint lists, IAM documents) lives in
modules without resources so it can be tested without Pulumi.
"""
