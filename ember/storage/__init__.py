"""The keyspace engine: databases, value types, expiry. No RESP, no asyncio."""
