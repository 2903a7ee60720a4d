"""The fleet: accounts, regions, VPCs, instances with their NICs, security groups and their
members, and the ECS management operations on them (`cloud_model.CloudModel`, composed of
one mixin per resource family)."""
