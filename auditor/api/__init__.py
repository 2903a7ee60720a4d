"""The ECS-style API: the request pipeline (authenticate, authorise with RAM, run, persist,
answer), its HTTP port, parameters, errors, the action registry, and the actions by product."""
