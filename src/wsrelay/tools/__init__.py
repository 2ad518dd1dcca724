"""Operator and developer tools (local only, never shipped to Lambda)."""
