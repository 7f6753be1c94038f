"""RESP bytes <-> Python values, without sockets or asyncio (sans-IO)."""
