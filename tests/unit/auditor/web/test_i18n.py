"""zh-CN is complete: every string the templates translate, every check's title, rationale
and remediation, and every value the pages show through the catalogue (levels, statuses,
instance states, shield colours, nav labels, categories, channel kinds)."""

from __future__ import annotations

import re
from pathlib import Path

from palisade.auditor.alerts.lifecycle import STATUSES
from palisade.auditor.checks.registry import all_metas
from palisade.auditor.model.fleet.resources import InstanceState
from palisade.auditor.notify.models import CATEGORIES, CHANNEL_KINDS, LEVELS
from palisade.auditor.web.app import NAV
from palisade.auditor.web.i18n import CATALOGUES, translator
from palisade.auditor.web.pages.instances import SHIELDS

TEMPLATES = Path(__file__).parents[4] / "auditor" / "web" / "templates"
ZH = CATALOGUES["zh"]


def test_every_template_string_has_a_chinese_translation():
    literal = re.compile(r"""\bt\((["'])([^"']*?)\1\)""")
    found = {m.group(2) for f in TEMPLATES.glob("*.html") for m in literal.finditer(f.read_text())}
    assert len(found) > 100
    assert sorted(s for s in found if s not in ZH) == []


def test_every_check_speaks_chinese():
    missing = [
        text
        for meta in all_metas()
        for text in (meta.title, meta.rationale, meta.remediation)
        if text not in ZH
    ]
    assert missing == []


def test_every_value_shown_through_the_catalogue_is_translated():
    values = [
        *LEVELS,
        *STATUSES,
        *(s.value for s in InstanceState),
        *(f"shield.{s}" for s in SHIELDS),
        *(label for label, *_ in NAV),
        *(f"category.{c}" for c in CATEGORIES),
        *(k for k in CHANNEL_KINDS),
        "auto",
        "manual",
        "expired",
    ]
    assert [v for v in values if v not in ZH] == []


def test_english_keys_read_as_english():
    t = translator("en")
    assert t("shield.orange").startswith("orange") and t("Brute-force login attempts") == (
        "Brute-force login attempts"
    )
