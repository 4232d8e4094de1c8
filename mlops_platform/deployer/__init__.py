"""The Automation API deployer: ordered, policy-gated deploys of the platform and serving stacks.

Modules, from the inside out:

- ``graph``: the one static stack graph (data -> exp -> res -> dev -> int -> prod -> serving) and its
  topological waves; pure logic.
- ``runner``: the ``StackRunner`` protocol and its ``pulumi.automation`` implementation, which always
  works on a temporary copy of the project so the committed stack files stay as they are.
- ``backends``: where state and secrets live (local file backend, the RES S3 bucket, Pulumi Cloud).
- ``orchestrator``: runs the graph wave by wave through a runner (preview with policies, then up).
- ``progress``: live status, ``--json`` event stream and the closing table.
- ``model``, ``drift``, ``destroy``: the other deployer commands.
- ``errors``: the faults that get one clear line and exit code 2.
"""
