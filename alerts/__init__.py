"""Crisis alerts: rule models, the restart-safe rule engine, channels and rule files."""
