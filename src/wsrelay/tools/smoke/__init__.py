"""``wsrelay smoke URL``: the post-deploy check of a relay endpoint, one PASS/FAIL line per step."""
