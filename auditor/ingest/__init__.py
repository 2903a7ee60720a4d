"""What the agents send: enrolment and the auditor's CA, the gRPC report streams (mutual TLS),
and the group-commit writer that stores their messages before they are acknowledged."""
