"""wsrelay: the result relay between compile routers and compile workers.

An API Gateway WebSocket API whose three routes run as Python Lambda functions (on demand,
provisioned or on Lambda Managed Instances), with DynamoDB as the only state, plus a local stack
that runs the same handlers. Layers (docs/architecture.md): `protocol` -> `relay` over the ports
of `ports` -> adapters in `stores` and `outbound` -> `handlers` (Lambda); `local` (the local
stack), `client`, `tools`, `testing` and `cli` around them.
"""

__version__ = "0.1.0"
