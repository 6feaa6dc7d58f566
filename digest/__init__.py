"""The weekly veille digest: queries, charts, rendering and sending."""
