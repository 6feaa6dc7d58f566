"""Kafka services of the pipeline; they share one run loop (consumers.runloop)."""
