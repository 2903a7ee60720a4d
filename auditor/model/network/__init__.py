"""Security groups and what they let through: rules and their validation, the engine that
decides a flow, reachability and exposure reports, rule analysis, and an nftables rendering
that enforces the same policy on a Linux host."""
