"""Rule types: one module each, one line each in ``alerts.registry.RULE_TYPES``."""
