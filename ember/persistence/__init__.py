"""Persistence: RDB snapshots, DUMP/RESTORE payloads, AOF and the check tools.

Layering: may import protocol, storage and commands; never server or replication; the
commands layer never imports this package. The RDB codec's API is
:mod:`ember.persistence.rdb`.
"""
