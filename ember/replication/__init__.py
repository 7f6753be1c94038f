"""Replication: PSYNC2 primaries and replicas speaking Redis's own protocol.

Sans-IO like the command layer: ``backlog`` (replication ids, offsets, the backlog),
``primary`` (SYNC/PSYNC/REPLCONF/WAIT, feeding replicas), ``replica`` (the link to a
primary: handshake, RDB, command stream), ``failover`` (FAILOVER) and ``commands`` (the
command declarations). The asyncio side (sockets, the RDB child process) is
``ember.server.replication_wiring``, which installs all of this into a server.
"""
