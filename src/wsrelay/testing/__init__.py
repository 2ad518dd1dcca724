"""Test doubles that tests, benchmarks and users run: a recording Management API, moto's server
answering one request at a time. Local only, never shipped to Lambda."""
