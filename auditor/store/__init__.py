"""The database (SQLAlchemy Core; SQLite by default, PostgreSQL for replicas): schema and
migrations, the agents' facts and events (`database.Database`), the cloud state document
(`cloud_state_repository`)."""
