"""Shared helpers for tests that speak the API."""
