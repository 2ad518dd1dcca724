"""The local stack's runtimes: where a route's handler runs. `base` holds what they share;
``inprocess/`` runs the handlers in the gateway's process, ``process/`` in worker processes
(the ``lmi`` and ``ondemand`` runtimes). Each folder holds a ``runtime.py``."""
