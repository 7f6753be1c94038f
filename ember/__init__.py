"""ember: a Redis-compatible in-memory data server written in Python."""

__version__ = "0.1.0"
# The Redis version ember reports in INFO and HELLO; clients read it to pick features.
REDIS_VERSION = "7.2.4"
