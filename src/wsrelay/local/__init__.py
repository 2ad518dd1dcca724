"""The local stack: an API Gateway WebSocket emulator that invokes the real handlers."""
