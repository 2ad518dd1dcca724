"""Outbound adapters: API Gateway's Management API (`management_api`)."""
