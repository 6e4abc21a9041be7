"""The whisper-backed, carbon-compatible store."""
