"""FAILOVER: the coordinated switch-over of Redis 6.2+ (filled in below)."""
