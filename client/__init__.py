"""The application-side statsd client (being written)."""
