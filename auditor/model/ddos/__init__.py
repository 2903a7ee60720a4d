"""DDoS basic protection: the scrubbing thresholds per instance type (thresholds.py) and each
instance's protection state, normal -> scrubbing -> black hole, driven by its inbound traffic
(protection.py). Pure: the traffic and the time are inputs."""
