"""Alerts: the pure lifecycle of one round of findings (`lifecycle`), their rows in the database
(`repository`), user-made silences and whitelist entries (`user_rules`), and the audit log."""
