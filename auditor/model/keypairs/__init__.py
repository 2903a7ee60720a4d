"""SSH key pairs as the cloud keeps them, and which instance uses which."""
