"""The admin console (GET /console): a static single-page app over the public API only."""
