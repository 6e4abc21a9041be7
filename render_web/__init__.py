"""The read half of the pipeline: a graphite-web compatible HTTP API and composer."""
