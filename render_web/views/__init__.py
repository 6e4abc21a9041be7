"""The blueprints of the renderer, one module per part of graphite-web's API."""
