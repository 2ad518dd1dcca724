"""The ``lmi`` and ``ondemand`` runtimes: a pool of worker processes (`runtime`), each running
`child` with the Lambda face."""
