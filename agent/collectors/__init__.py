"""What the agent reads on a host: one module per kind of fact (listeners, packages, keys,
sshd settings, baseline, traffic, ...), read under a host root (`host_root.py`).

agent/snapshot.py calls each family's `collect()` for a snapshot; login events are followed
continuously instead (`logins/`, driven by agent/runner.py).
"""
