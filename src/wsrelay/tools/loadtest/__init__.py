"""``wsrelay loadtest URL`` and ``wsrelay loadtest-merge``: open- or closed-loop load on a relay
endpoint with the real clients' job cycle, latencies in HdrHistogram, mergeable JSON reports."""
