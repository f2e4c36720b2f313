"""The database: SQLAlchemy 2 mapping, engine set-up, repositories and the unit of work."""
