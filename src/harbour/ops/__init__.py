"""Operations: what an operator runs and watches (backups, health and readiness, metrics, request logs).

Not a domain: it owns no personal data of its own.  Key-ring safety lives in ``core`` (crypto, keycheck,
rotation, workers) because every domain's encrypted columns depend on it.
"""
