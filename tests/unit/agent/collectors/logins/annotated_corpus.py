"""Reads the annotated sample logs in tests/data/logins (fail2ban's `# failJSON:` idea).

Line-based samples: every sample line is preceded by `# expect: {json}` (the event it must
produce) or `# expect: null`; other `#` lines are comments; `# options: {json}` once sets
parsing options for the file. In an expectation, contract fields not given are null, except
`service` ("sshd") and `raw` (the sample line itself; for journal samples its MESSAGE).
Windows XML samples carry `<!-- expect: {json} -->` before each <Event>.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[4] / "data" / "logins"
CONTRACT_DEFAULTS = {
    "user": None,
    "source_ip": None,
    "source_port": None,
    "method": None,
    "key_fingerprint": None,
    "service": "sshd",
}


@dataclass(frozen=True)
class Sample:
    file: str
    line_number: int
    text: str
    expected: dict | None

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line_number}"


def line_samples(path: Path) -> tuple[dict, list[Sample]]:
    options: dict = {}
    samples: list[Sample] = []
    pending: tuple[int, dict | None] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# options:"):
            options = json.loads(line.split(":", 1)[1])
        elif line.startswith("# expect:"):
            if pending is not None:
                raise AssertionError(f"{path.name}:{pending[0]}: expectation without a sample")
            pending = (number, json.loads(line.split(":", 1)[1]))
        elif line.startswith("#") or not line.strip():
            continue
        else:
            if pending is None:
                raise AssertionError(f"{path.name}:{number}: sample without `# expect:` above it")
            samples.append(Sample(path.name, number, line, pending[1]))
            pending = None
    if pending is not None:
        raise AssertionError(f"{path.name}:{pending[0]}: expectation without a sample")
    return options, samples


_XML_SAMPLE = re.compile(
    r"<!--\s*expect:\s*(?P<json>.*?)\s*-->\s*(?P<event><Event[\s>].*?</Event>)", re.DOTALL
)


def xml_samples(path: Path) -> list[Sample]:
    text = path.read_text(encoding="utf-8")
    samples = []
    for match in _XML_SAMPLE.finditer(text):
        line_number = text.count("\n", 0, match.start("event")) + 1
        samples.append(
            Sample(path.name, line_number, match.group("event"), json.loads(match.group("json")))
        )
    return samples


def expected_view(expected: dict, raw: str) -> dict:
    """The full expectation: defaults filled in."""
    full = {**CONTRACT_DEFAULTS, "raw": raw}
    full.update(expected)
    return full


# Session fields are compared where an expectation names them (files written before issue 14
# say nothing about sessions).
SESSION_FIELDS = ("session", "new_attempt", "forgiven")


def actual_view(event, expected: dict) -> dict:
    """The event's contract fields plus whichever extra attributes the expectation names."""
    view = event.to_json_dict()
    for key in SESSION_FIELDS:
        if key not in expected:
            del view[key]
    for key in expected:
        if key not in view:
            view[key] = getattr(event, key)
    return view
