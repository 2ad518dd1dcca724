"""The ``inprocess`` runtime: its runtime, its Outbound over the gateway's connections, its store."""
