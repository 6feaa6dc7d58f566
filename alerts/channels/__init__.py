"""Alert channels: one module each, one line each in ``alerts.registry.CHANNEL_TYPES``."""
