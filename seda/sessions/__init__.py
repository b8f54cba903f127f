"""Listening sessions (API.md section 10): a room plays music together."""
