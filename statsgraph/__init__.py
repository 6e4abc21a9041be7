"""statsgraph: the command line and the composition of the three services."""

__version__ = "0.1.0"
