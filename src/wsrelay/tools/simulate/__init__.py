"""``wsrelay simulate``: a discrete-event simulation (SimPy) of routers, the job queue, the
compile workers and the relay under each compute mode and each relay semantics (operator tool,
never part of the Lambda package)."""
