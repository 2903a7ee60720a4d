"""OpenSSH public keys and authorized_keys lines (palisade.shared.sshkeys)."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.shared import sshkeys
from palisade.shared.sshkeys import KeyOption, KeyParseError

# Printed by `ssh-keygen -lf` and `ssh-keygen -E md5 -lf` for this key.
ED25519_LINE = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+OA8lqzpITPlGWaKuLyJL053oEuMJe2byWIbuiDdeh me@x"
)
ED25519_SHA256 = "SHA256:JB72l99SrZk8gRh2L+70SxZEzd7HELXzcjzCiz90jzQ"
ED25519_MD5 = "02:e9:4c:5d:4f:57:38:b7:6a:9e:9d:9f:6d:d1:b6:21"
ED25519_B64 = ED25519_LINE.split()[1]

pytestmark = pytest.mark.filterwarnings("ignore:SSH DSA key support is deprecated")


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(n: int) -> bytes:
    return _string(n.to_bytes((n.bit_length() + 8) // 8, "big"))


def _b64(blob: bytes) -> str:
    return base64.b64encode(blob).decode()


def _blob(line: str) -> bytes:
    return base64.b64decode(line.split()[1])


KEYS = {
    "rsa2048": rsa.generate_private_key(65537, 2048),
    "ecdsa256": ec.generate_private_key(ec.SECP256R1()),
    "ecdsa384": ec.generate_private_key(ec.SECP384R1()),
    "ecdsa521": ec.generate_private_key(ec.SECP521R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate(),
    "dsa1024": dsa.generate_private_key(1024),
}
EXPECTED = {
    "rsa2048": ("ssh-rsa", 2048),
    "ecdsa256": ("ecdsa-sha2-nistp256", 256),
    "ecdsa384": ("ecdsa-sha2-nistp384", 384),
    "ecdsa521": ("ecdsa-sha2-nistp521", 521),
    "ed25519": ("ssh-ed25519", 256),
    "dsa1024": ("ssh-dss", 1024),
}


def test_known_ed25519_fingerprints_match_ssh_keygen_output():
    key = sshkeys.parse_public_key(ED25519_LINE)
    assert key.fingerprint_sha256 == ED25519_SHA256
    assert key.fingerprint_md5 == ED25519_MD5
    assert (key.key_type, key.bits, key.comment, key.is_certificate) == (
        "ssh-ed25519",
        256,
        "me@x",
        False,
    )


@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_plain_type_parses_with_bits_and_fingerprints(name):
    line = sshkeys.public_key_from_cryptography(KEYS[name], comment="c o")
    key = sshkeys.parse_public_key(line)
    blob = _blob(line)
    assert (key.key_type, key.bits) == EXPECTED[name]
    assert key.comment == "c o"
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert key.fingerprint_sha256 == "SHA256:" + digest
    assert key.fingerprint_md5 == ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())


def test_public_key_from_cryptography_accepts_public_and_private_keys():
    private = KEYS["ed25519"]
    assert sshkeys.public_key_from_cryptography(private) == (
        sshkeys.public_key_from_cryptography(private.public_key())
    )
    assert sshkeys.public_key_from_cryptography(private).startswith("ssh-ed25519 AAAA")


def _sk_ed25519_blob(pk: bytes, application: bytes = b"ssh:") -> bytes:
    return _string(b"sk-ssh-ed25519@openssh.com") + _string(pk) + _string(application)


def _sk_ecdsa_blob() -> bytes:
    point = (
        KEYS["ecdsa256"]
        .public_key()
        .public_bytes(
            serialization.Encoding.X962,
            serialization.PublicFormat.UncompressedPoint,
        )
    )
    return (
        _string(b"sk-ecdsa-sha2-nistp256@openssh.com")
        + _string(b"nistp256")
        + _string(point)
        + _string(b"ssh:")
    )


@pytest.mark.parametrize(
    ("key_type", "blob"),
    [
        ("sk-ssh-ed25519@openssh.com", _sk_ed25519_blob(bytes(range(32)))),
        ("sk-ecdsa-sha2-nistp256@openssh.com", _sk_ecdsa_blob()),
    ],
)
def test_security_key_types_parse(key_type, blob):
    key = sshkeys.parse_public_key(f"{key_type} {_b64(blob)}")
    assert key.bits == 256
    assert key.fingerprint_sha256 == sshkeys.fingerprint_sha256(blob)


def _cert_tail(legacy: bool, ca_blob: bytes) -> bytes:
    principals = _string(_string(b"alice"))
    out = b"" if legacy else struct.pack(">Q", 7)  # serial
    out += struct.pack(">I", 1) + _string(b"key-id") + _string(principals)
    out += struct.pack(">QQ", 0, 2**64 - 1)
    out += _string(_string(b"force-command") + _string(_string(b"/bin/true")))
    out += _string(b"nonce-v00") if legacy else _string(_string(b"permit-pty") + _string(b""))
    out += _string(b"")  # reserved
    return out + _string(ca_blob) + _string(_string(b"ssh-ed25519") + _string(b"\0" * 64))


def test_v01_certificate_fingerprints_the_certified_plain_key():
    ca_blob = _blob(ED25519_LINE)
    plain = _sk_ed25519_blob(bytes(range(32)))
    cert = (
        _string(b"sk-ssh-ed25519-cert-v01@openssh.com")
        + _string(b"n" * 32)
        + _string(bytes(range(32)))
        + _string(b"ssh:")
        + _cert_tail(False, ca_blob)
    )
    key = sshkeys.parse_public_key(f"sk-ssh-ed25519-cert-v01@openssh.com {_b64(cert)} c")
    assert key.is_certificate
    assert key.fingerprint_sha256 == sshkeys.fingerprint_sha256(plain)
    assert key.fingerprint_md5 == sshkeys.fingerprint_md5(plain)


def test_legacy_v00_rsa_certificate_parses():
    public = KEYS["rsa2048"].public_key().public_numbers()
    fields = _mpint(public.e) + _mpint(public.n)
    cert = _string(b"ssh-rsa-cert-v00@openssh.com") + fields + _cert_tail(True, _blob(ED25519_LINE))
    key = sshkeys.parse_public_key(f"ssh-rsa-cert-v00@openssh.com {_b64(cert)}")
    assert key.bits == 2048 and key.is_certificate
    assert key.fingerprint_sha256 == sshkeys.fingerprint_sha256(_string(b"ssh-rsa") + fields)


def test_non_canonical_mpint_is_fingerprinted_as_re_serialised():
    # ssh-keygen parses then re-serialises, so redundant leading zeros do not count.
    public = KEYS["rsa2048"].public_key().public_numbers()
    canonical = _string(b"ssh-rsa") + _mpint(public.e) + _mpint(public.n)
    padded = _string(b"ssh-rsa") + _string(b"\0\0" + public.e.to_bytes(3, "big")) + _mpint(public.n)
    key = sshkeys.parse_public_key(f"ssh-rsa {_b64(padded)}")
    assert key.fingerprint_sha256 == sshkeys.fingerprint_sha256(canonical)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"ssh-rsa {ED25519_B64}", "does not match"),
        (f"ssh-ed25519 {_b64(_blob(ED25519_LINE)[:-5])}", "truncated"),
        (f"ssh-ed25519 {_b64(_blob(ED25519_LINE) + b'xx')}", "trailing"),
        ("ssh-ed25519 AAAA$$$$", "base64"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA", "base64"),  # unpadded
        ("ssh-ed25519", "missing key data"),
        ("ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAABAQ", "unknown key type 'ssh-foo'"),
        (
            f"ssh-ed25519 {_b64(_string(b'ssh-ed25519') + _string(b'x' * 31))}",
            "not 32",
        ),
        (
            "ecdsa-sha2-nistp256 "
            + _b64(_string(b"ecdsa-sha2-nistp256") + _string(b"nistp384") + _string(b"\x04")),
            "does not match key type",
        ),
        (
            "ecdsa-sha2-nistp256 "
            + _b64(
                _string(b"ecdsa-sha2-nistp256")
                + _string(b"nistp256")
                + _string(b"\x04" + b"\1" * 64)
            ),
            "not on the curve",
        ),
        (
            "ssh-rsa " + _b64(_string(b"ssh-rsa") + _string(b"\x80") + _mpint(5)),
            "negative",
        ),
    ],
)
def test_malformed_keys_raise_key_parse_error(line, message):
    with pytest.raises(KeyParseError, match=message):
        sshkeys.parse_public_key(line)


def test_compressed_ec_point_is_refused_like_openssh():
    point = (
        KEYS["ecdsa256"]
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    )
    blob = _string(b"ecdsa-sha2-nistp256") + _string(b"nistp256") + _string(point)
    with pytest.raises(KeyParseError, match="uncompressed"):
        sshkeys.parse_public_key(f"ecdsa-sha2-nistp256 {_b64(blob)}")


def test_options_with_quoted_commas_spaces_and_escaped_quotes():
    text = 'from="10.0.0.1",command="echo \\"a b\\"" ssh-ed25519 ' + ED25519_B64 + " c"
    line = sshkeys.parse_authorized_key_line(text, 4)
    assert line is not None and line.error is None
    assert line.options == 'from="10.0.0.1",command="echo \\"a b\\""'
    assert sshkeys.parse_options(line.options) == [
        KeyOption("from", "10.0.0.1"),
        KeyOption("command", 'echo "a b"'),
    ]
    assert line.key is not None and line.key.comment == "c"
    assert line.line_number == 4


def test_options_flags_and_lists():
    assert sshkeys.parse_options('no-pty,permitopen="h:1,h:2",restrict') == [
        KeyOption("no-pty", None),
        KeyOption("permitopen", "h:1,h:2"),
        KeyOption("restrict", None),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("from=10.0.0.1", "missing start quote"),
        ('command="x', "missing end quote"),
        ("no-pty,", "unexpected end"),
        ('a="x"b', "unexpected"),
    ],
)
def test_bad_options_are_errors(options, message):
    with pytest.raises(KeyParseError, match=message):
        sshkeys.parse_options(options)
    line = sshkeys.parse_authorized_key_line(f"{options} {ED25519_LINE}")
    assert line is not None and line.key is None and line.error


def test_unterminated_quote_before_key_is_a_malformed_line():
    line = sshkeys.parse_authorized_key_line(f'command="echo {ED25519_LINE}')
    assert line is not None and line.key is None
    assert line.error == "unterminated quote in options"


@pytest.mark.parametrize("text", ["", "   ", "\t", "# a comment", "   # indented", "\r\n"])
def test_blank_and_comment_lines_are_skipped(text):
    assert sshkeys.parse_authorized_key_line(text) is None


def test_whitespace_crlf_and_tabs_around_a_key():
    line = sshkeys.parse_authorized_key_line(f"  \t{ED25519_LINE.replace(' ', chr(9))}\r\n")
    assert line is not None and line.key is not None
    assert line.key.fingerprint_sha256 == ED25519_SHA256
    assert line.key.comment == "me@x"


def test_file_parser_numbers_lines_and_keeps_malformed_ones():
    data = (f"# keys\n\n{ED25519_LINE}\nnot a key\n" + "no-pty " + ED25519_LINE).encode()
    lines = sshkeys.parse_authorized_keys(data)
    assert [(x.line_number, x.key is not None) for x in lines] == [(3, True), (4, False), (5, True)]
    assert lines[1].error == "unknown key type 'not'"
    assert lines[1].raw == "not a key"
    assert lines[2].options == "no-pty"


@pytest.mark.parametrize(
    ("text", "named"),
    [("ssh-foo AAAA", "ssh-foo"), ("no-pty ssh-foo AAAA", "ssh-foo"), ('from="x" y z', "y")],
)
def test_unknown_key_type_error_names_the_token_where_the_type_should_be(text, named):
    line = sshkeys.parse_authorized_key_line(text)
    assert line is not None and line.error == f"unknown key type {named!r}"


def test_nul_bytes_invalid_utf8_and_huge_lines_are_errors_not_crashes():
    bad = [
        b"ssh-ed25519 AAAA\0AAAA",
        b"\xff\xfe ssh-ed25519 " + ED25519_B64.encode(),
        b"ssh-rsa " + b"A" * 2_000_000,
        b'x="' + b"\\" * 100_000,
    ]
    for raw in bad:
        line = sshkeys.parse_authorized_key_line(raw, 1)
        assert line is not None and line.key is None and line.error
    # Invalid UTF-8 in a comment is kept (replaced), the key is still valid.
    line = sshkeys.parse_authorized_key_line(ED25519_LINE.encode() + b" \xff\0")
    assert line is not None and line.key is not None
    assert line.key.comment == "me@x \ufffd\0"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_line_parser_never_raises(data):
    line = sshkeys.parse_authorized_key_line(data, 1)
    assert line is None or (line.key is None) == (line.error is not None)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_file_parser_never_raises(data):
    for line in sshkeys.parse_authorized_keys(data):
        assert (line.key is None) == (line.error is not None)


@settings(max_examples=200, deadline=None)
@given(st.binary(), st.sampled_from(sorted(sshkeys.KEY_TYPES)))
def test_blob_parser_raises_only_key_parse_error(blob, key_type):
    with pytest.raises(KeyParseError):
        # Random bytes never carry the right embedded type string.
        sshkeys.parse_public_key(f"{key_type} {_b64(b'garbage' + blob)}")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(sshkeys.KEY_TYPES)),
    st.binary(max_size=300),
    st.integers(min_value=0, max_value=200),
)
def test_embedded_type_with_random_fields_never_escapes_as_another_exception(key_type, tail, cut):
    blob = (_string(key_type.encode()) + tail)[: len(key_type) + 4 + cut]
    try:
        sshkeys.parse_public_key(f"{key_type} {_b64(blob)}")
    except KeyParseError:
        pass


_option_names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
_option_values = st.text(
    st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=30
).filter(lambda v: not v.endswith("\\"))  # OpenSSH cannot quote a trailing backslash
_options = st.lists(st.tuples(_option_names, st.one_of(st.none(), _option_values)), max_size=4)
_comments = st.text(
    st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=40
).map(lambda c: c.strip(" \t"))


def _render_options(options: list[tuple[str, str | None]]) -> str:
    return ",".join(
        name if value is None else f'{name}="{value.replace(chr(34), chr(92) + chr(34))}"'
        for name, value in options
    )


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(KEYS)), _options, _comments)
def test_valid_keys_with_random_options_and_comment_roundtrip(name, options, comment):
    key_line = sshkeys.public_key_from_cryptography(KEYS[name])
    rendered = _render_options(options)
    text = f"{rendered} {key_line} {comment}" if rendered else f"{key_line} {comment}"
    line = sshkeys.parse_authorized_key_line(text, 9)
    assert line is not None and line.error is None, line
    assert line.key is not None
    assert line.options == rendered
    assert [(o.name, o.value) for o in sshkeys.parse_options(line.options)] == options
    assert line.key.comment == comment.strip(" \t")
    assert f"{line.key.key_type} {line.key.blob_b64}" == key_line
