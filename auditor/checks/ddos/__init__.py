"""DDoS: an instance's inbound traffic against its instance type's scrubbing threshold and the
black-hole threshold."""
