"""Source connectors: each fetches items since a cursor and yields Mention objects."""
