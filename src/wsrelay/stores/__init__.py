"""Store adapters the Lambda functions run over: `dynamodb` (production) and `sqlite_shared`
(a SQLite file several processes share: the local stack's worker processes), with what both
SQLite stores share in `sqlite_rows`; and `memory` (in memory, on a clock passed in: the
simulation's). The in-process runtime's own store lives with it
(`wsrelay.local.runtimes.inprocess.store`)."""
