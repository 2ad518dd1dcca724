"""Store adapters: `dynamodb` (production) and `sqlite` (embedded default for local runs)."""
