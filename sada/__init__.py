"""Sada (صدى, "echo"): social listening for the Law 43.22 public-awareness campaign."""

__version__ = "0.1.0"
