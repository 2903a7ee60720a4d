"""RAM: users with both a console password and an active AccessKey (account-wide)."""
