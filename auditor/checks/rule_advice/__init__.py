"""Rule advice: the security groups' rule sets read as the ECS security guide advises."""
