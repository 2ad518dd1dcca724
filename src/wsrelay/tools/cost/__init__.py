"""``wsrelay cost``: the monthly cost of each way to deploy the relay (operator tool, never part
of the Lambda package)."""
