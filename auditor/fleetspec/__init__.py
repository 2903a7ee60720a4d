"""Declarative fleets: a YAML/JSON fleet file or an ECS export read into a `FleetSpec`
(`spec`, `fleet_file`, `ecs_import`), and applied through the API actions (`apply`)."""
