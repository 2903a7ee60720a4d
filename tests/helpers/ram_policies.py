"""RAM policy documents as the API takes them: JSON text."""

from __future__ import annotations

import json


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


# The trust policy of a role that ECS instances may take on.
ECS_TRUST = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["ecs.aliyuncs.com"]},
            }
        ],
    }
)
