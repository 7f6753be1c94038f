"""One module per value type; each class knows nothing of RESP."""
