"""A fleet file's or ECS response file's text (YAML or JSON) as data, for the readers."""

from __future__ import annotations

import json

from palisade.auditor.fleetspec.spec import SpecError

MAX_FILE = 16 * 1024 * 1024


def load_document(text: str, name: str = "file") -> object:
    """YAML or JSON text -> data (YAML's safe loader: no objects, no tags)."""
    import yaml

    if len(text) > MAX_FILE:
        raise SpecError("$", f"{name} is larger than {MAX_FILE} bytes")
    try:
        if text.lstrip().startswith(("{", "[")):
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        raise SpecError("$", f"{name} is not valid YAML/JSON: {str(exc)[:300]}") from None
