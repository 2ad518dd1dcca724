"""wsrelay: the result relay between compile routers and compile workers.

An API Gateway WebSocket API whose three routes run as Python Lambda functions (on Lambda
Managed Instances), with DynamoDB as the only state, plus a local stack that runs the same
handlers. Layers (docs/architecture.md): `protocol` -> `relay` over the ports of `ports`
-> adapters in `stores` and `outbound` -> `handlers` (Lambda) and `gateway` (local stack).
"""

__version__ = "0.1.0"
