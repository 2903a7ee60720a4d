"""Exposure: services the internet reaches through the security groups, rules that open ports
where nothing listens, and high-risk ports open to 0.0.0.0/0."""
