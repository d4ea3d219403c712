"""Storage: the SQLAlchemy 2 schema, the background writer and the read-side queries."""
