"""Key pairs: the cloud's key pair binding against the host's authorized_keys, sshd's password
settings and publickey logins."""
