"""Storage: the SQLAlchemy 2 schema, the background writer, queries and the post-class report."""
