"""Data export (API.md §12): a person's data as a zip of JSON in the API's own shapes, built by
a task (streamed, never held whole), kept for EXPORT_TTL_HOURS, one per rolling day."""
