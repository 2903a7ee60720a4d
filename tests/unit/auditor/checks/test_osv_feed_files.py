"""A feed as osv.dev publishes it: a record's file, a list, a directory tree, the
per-ecosystem zip export (also inside a directory); a bad file or member is reported with
where it is, and reading never fails otherwise (hypothesis: any bytes in a zip member)."""

from __future__ import annotations

import json
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.checks.vulnerabilities.osv import (
    database_from_documents,
    load_osv,
    read_feed,
)

from .test_osv_and_vulnerabilities import DSA, RLSA


def _zip(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_a_zip_export_in_a_directory_with_loose_files(tmp_path):
    _zip(
        tmp_path / "Debian-all.zip",
        {
            "DSA-5532-1.json": json.dumps(DSA).encode(),
            "junk.json": b"not json",
            "notes.txt": b"ignored: not a record",
        },
    )
    (tmp_path / "rocky").mkdir()
    (tmp_path / "rocky" / "list.json").write_text(json.dumps([RLSA, {"id": ""}]))
    items = list(read_feed(tmp_path))
    assert [i.where.rsplit("/", 1)[-1] for i in items] == [
        "Debian-all.zip:DSA-5532-1.json",
        "Debian-all.zip:junk.json",
        "list.json[0]",
        "list.json[1]",
    ]
    assert items[1].error.startswith("not JSON")
    db = load_osv(tmp_path)
    assert sorted(db.advisories) == ["DSA-5532-1", "RLSA-2024:1234"]
    assert [e.rsplit("/", 1)[-1][:25] for e in db.errors] == [
        "Debian-all.zip:junk.json:",
        "list.json[1]: $.id: empty",
    ]


def test_a_single_zip_file_and_a_broken_one(tmp_path):
    _zip(tmp_path / "all.zip", {"a/DSA.json": json.dumps(DSA).encode()})
    assert list(load_osv(tmp_path / "all.zip").advisories) == ["DSA-5532-1"]
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 truncated")
    (item,) = read_feed(tmp_path / "broken.zip")
    assert item.error.startswith("not a zip archive")


def test_the_database_from_stored_texts_skips_what_does_not_parse():
    withdrawn = dict(DSA, modified="2024-01-01T00:00:00Z", withdrawn="2024-01-01T00:00:00Z")
    db = database_from_documents([json.dumps(RLSA), "{", json.dumps({"id": 5})])
    assert list(db.advisories) == ["RLSA-2024:1234"] and len(db.errors) == 2
    # a newer withdrawn record takes the older one out
    db = database_from_documents([json.dumps(DSA), json.dumps(withdrawn)])
    assert len(db) == 0
    assert db.matches(("Debian",), "12", ("openssl",), "3.0.9-1") == []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_MEMBER = st.one_of(
    st.binary(max_size=200),
    st.just(json.dumps(DSA).encode()),
    st.builds(lambda v: json.dumps(v).encode(), _JSON),
)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.dictionaries(st.from_regex(r"[A-Za-z0-9-]{1,12}", fullmatch=True), _MEMBER))
def test_any_zip_member_is_read_or_reported(tmp_path, members):
    path = tmp_path / "all.zip"
    _zip(path, {f"{name}.json": data for name, data in members.items()})
    seen: dict[str, int] = {}
    for item in read_feed(path):  # never raises
        assert isinstance(item.error, str) and item.where.startswith(str(path))
        member = item.where.split(":", 1)[1].split(".json", 1)[0]
        seen[member] = seen.get(member, 0) + 1
    assert set(seen) <= set(members)
    for name, data in members.items():
        try:
            is_list = isinstance(json.loads(data), list)
        except ValueError:
            is_list = False
        if not is_list:
            assert seen.get(name) == 1, name
    db = load_osv(path)  # never raises either: records or errors
    assert all(isinstance(e, str) for e in db.errors)
