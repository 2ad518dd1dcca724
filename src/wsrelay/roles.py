"""Who may send which command: the roles a token grants (``publisher``, ``subscriber``,
``both``) and the one rule the relay enforces with them.

Pure and tiny: the relay (`wsrelay.relay`) imports it to check each command, the authorizer
(`wsrelay.auth`) to check a token's ``role`` claim, so neither imports the other. The role
reaches the relay as ``requestContext.authorizer.role`` (the authorizer's context, fixed at
``$connect``); with no authorizer there is no role and every command is allowed, as before
roles existed (docs/protocol.md, "Roles").
"""

from __future__ import annotations

from wsrelay import protocol

PUBLISHER = "publisher"
SUBSCRIBER = "subscriber"
BOTH = "both"
ROLES = (PUBLISHER, SUBSCRIBER, BOTH)

# How the relay treats a role violation (the authorizer's WSRELAY_AUTH_MODE, passed to the
# relay in the authorizer's context as ``mode``): refuse it, or log and count it and let it through.
ENFORCE = "enforce"
PERMISSIVE = "permissive"
MODES = (ENFORCE, PERMISSIVE)

# The commands each side of the protocol sends. Unsubscribe is the subscriber's (it removes a
# subscription, which only a subscriber has); ping and frames that are no command need no role.
_NEEDS = {
    protocol.Subscribe: SUBSCRIBER,
    protocol.Unsubscribe: SUBSCRIBER,
    protocol.Acknowledge: SUBSCRIBER,
    protocol.Publish: PUBLISHER,
}
_VERBS = {
    protocol.Subscribe: "subscribe",
    protocol.Unsubscribe: "unsubscribe",
    protocol.Acknowledge: "ack",
    protocol.Publish: "publish",
}


def violation(role: str | None, command: protocol.Command) -> str | None:
    """Why a connection with `role` may not send `command`, or None when it may.

    None for every command when `role` is None (no authorizer). A role the relay does not know
    (never issued by `wsrelay.auth`) may send only what needs no role.
    """
    if role is None or role == BOTH:
        return None
    needed = _NEEDS.get(type(command))
    if needed is None or needed == role:
        return None
    return f"role {role} may not {_VERBS[type(command)]}"
