"""SSH key pairs as the cloud keeps them: the key pairs, and which instance uses which.

Pure: no clock reads (pass `now`), no key generation inside (the caller injects the
generator), no I/O. Every operation validates everything before changing anything.

The rules of the ECS security guide (2019): Linux instances only; one key pair per instance,
a new one replaces the old; binding disables password login (a later password reset
re-enables it); binding or unbinding a running instance takes effect only after a restart;
deleting is irreversible, instances keep showing the name, and a name still bound when deleted
can never be used again.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import Changes, compound
from palisade.auditor.model.document import decode, encode
from palisade.auditor.model.errors import ModelError
from palisade.shared import sshkeys

FORMAT = 1


@dataclass(frozen=True)
class KeyPairLimits:
    key_pairs_per_region: int = 500  # per account per region (the ECS security guide's quota)
    instances_per_attach: int = 50
    names_per_delete: int = 100
    name_min: int = 2
    name_max: int = 128


@dataclass
class KeyPair:
    name: str
    fingerprint: str  # MD5 of the public key blob, "aa:bb:...", as ECS shows it
    public_key: str  # "type base64" (OpenSSH), without a comment
    key_type: str
    created_at: datetime
    region_id: str
    account_id: str
    key_pair_id: str = ""  # "kp-..."; pairs stored before ids existed get one on load
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class BoundKey:
    """A key pair as an instance knows it; kept after the key pair itself is deleted."""

    name: str
    fingerprint: str


@dataclass
class KeyBinding:
    """One instance's key-pair state. `active` is what the running system uses; a change
    requested while it runs waits in `pending` / `pending_detach` until it restarts."""

    instance_id: str
    active: BoundKey | None = None
    pending: BoundKey | None = None
    pending_detach: bool = False
    requested_at: datetime | None = None  # when the pending change was asked for
    password_login_enabled: bool = True

    @property
    def has_pending(self) -> bool:
        return self.pending is not None or self.pending_detach


@dataclass(frozen=True)
class GeneratedKey:
    public_key: str  # OpenSSH "type base64"
    private_key_pem: str  # unencrypted PKCS#8; returned once, never stored


KeyGenerator = Callable[[], GeneratedKey]


@dataclass(frozen=True)
class InstanceView:
    """What the key-pair rules need to know about an instance."""

    instance_id: str
    account_id: str
    region_id: str
    is_linux: bool
    is_running: bool
    is_stopped: bool


@dataclass(frozen=True)
class InstanceResult:
    instance_id: str
    code: str  # "200" on success, else an error code
    message: str

    @property
    def success(self) -> bool:
        return self.code == "200"


# -- names -----------------------------------------------------------------------------------

_CJK = "\u4e00-\u9fa5"
_NAME = re.compile(rf"[A-Za-z{_CJK}][A-Za-z0-9{_CJK}._:-]*")


def validate_name(name: str, limits: KeyPairLimits) -> None:
    """As the ECS API: 2..128 characters, a letter or Chinese character first, then letters,
    Chinese characters, digits, `.`, `_`, `-` and `:`; never starting with http(s)://."""
    if not isinstance(name, str) or not (limits.name_min <= len(name) <= limits.name_max):
        raise ModelError(
            "InvalidKeyPairName.Malformed",
            f"A key pair name is {limits.name_min} to {limits.name_max} characters long.",
        )
    if name.lower().startswith(("http://", "https://")):
        raise ModelError(
            "InvalidKeyPairName.Malformed", "A key pair name cannot start with http:// or https://."
        )
    if not _NAME.fullmatch(name):
        raise ModelError(
            "InvalidKeyPairName.Malformed",
            f"Key pair name {name[:64]!r} is not valid: it starts with a letter or a Chinese "
            "character and contains only letters, Chinese characters, digits, '.', '_', '-' "
            "and ':'.",
        )


def name_matches(pattern: str, name: str) -> bool:
    """ECS DescribeKeyPairs name filter: exact, or `*` as any run of characters."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == name
    if not name.startswith(parts[0]) or len(name) < len(parts[0]) + len(parts[-1]):
        return False
    if not name.endswith(parts[-1]):
        return False
    pos, end = len(parts[0]), len(name) - len(parts[-1])
    for part in parts[1:-1]:
        found = name.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return True


# -- public keys -----------------------------------------------------------------------------

# The types the ECS security guide accepts, plus ed25519. Short names (rsa, dsa, ecdsa) stand
# for the plain types; the stored key always carries the type its blob declares.
_ALIASES = {
    "rsa": ("ssh-rsa",),
    "dsa": ("ssh-dss",),
    "ecdsa": ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"),
}
ACCEPTED_TYPES = frozenset(
    {
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "ssh-rsa-cert-v00@openssh.com",
        "ssh-rsa-cert-v01@openssh.com",
        "ssh-dss-cert-v00@openssh.com",
        "ssh-dss-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    }
)
_PRIVATE_MARKERS = ("PRIVATE KEY-----", "PuTTY-User-Key-File")
_OPENSSH_PRIVATE_MAGIC = b"openssh-key-v1\x00"


@dataclass(frozen=True)
class ParsedPublicKey:
    key_type: str
    public_key: str  # "type base64"
    fingerprint: str  # MD5 colon hex


def _malformed(why: str) -> ModelError:
    return ModelError(
        "InvalidPublicKeyBody.Malformed",
        f"PublicKeyBody is not an OpenSSH public key ({why}); give one line like "
        "'ssh-ed25519 AAAA... comment', as in a .pub file.",
    )


def _embedded_type(blob: bytes) -> str | None:
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    if length > len(blob) - 4 or length > 256:
        return None
    return blob[4 : 4 + length].decode("utf-8", errors="replace")


def parse_public_key_body(body: str) -> ParsedPublicKey:
    """ImportKeyPair's PublicKeyBody -> the key to store; raises ModelError, never anything
    else, on any input."""
    if not isinstance(body, str):
        raise _malformed("not text")
    if any(marker in body for marker in _PRIVATE_MARKERS):
        raise ModelError(
            "InvalidKeyPair.PrivateKeyNotAllowed",
            "PublicKeyBody holds a private key; never send one. Import its public key "
            "(`ssh-keygen -y -f KEY` prints it).",
        )
    text = body.strip(" \t\r\n")
    if not text:
        raise _malformed("it is empty")
    if "\n" in text or "\r" in text:
        raise _malformed("it spans several lines")
    fields = re.split(r"[ \t]+", text, maxsplit=2)  # OpenSSH separates fields with blanks
    if len(fields) < 2:
        blob = _b64(fields[0])
        if blob is not None and blob.startswith(_OPENSSH_PRIVATE_MAGIC):
            raise ModelError(
                "InvalidKeyPair.PrivateKeyNotAllowed",
                "PublicKeyBody is the base64 of an OpenSSH private key; import the public key.",
            )
        raise _malformed("the key type or the base64 key data is missing")
    declared, data = fields[0], fields[1]
    if declared not in ACCEPTED_TYPES and declared not in _ALIASES:
        raise ModelError(
            "InvalidPublicKeyBody.KeyTypeNotSupported",
            f"Key type {declared[:64]!r} is not supported; use ssh-rsa, ssh-dss, ssh-ed25519, "
            "ecdsa-sha2-nistp256/384/521 or their OpenSSH certificates.",
        )
    blob = _b64(data)
    if blob is None:
        raise _malformed("the key data is not valid base64")
    if blob.startswith(_OPENSSH_PRIVATE_MAGIC):
        raise ModelError(
            "InvalidKeyPair.PrivateKeyNotAllowed",
            "The key data is an OpenSSH private key; import the public key.",
        )
    embedded = _embedded_type(blob)
    if embedded is None:
        raise _malformed("the key data is truncated before its key type")
    allowed = _ALIASES.get(declared, (declared,))
    if embedded not in allowed:
        raise ModelError(
            "InvalidPublicKeyBody.TypeMismatch",
            f"The key is declared as {declared[:64]} but its data holds a "
            f"{embedded[:64]!r} key; the two must agree.",
        )
    try:
        key = sshkeys.key_from_blob(embedded, data)
    except sshkeys.KeyParseError as exc:
        raise _malformed(str(exc)) from None
    return ParsedPublicKey(embedded, f"{embedded} {data}", key.fingerprint_md5)


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True) or None
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


# -- the service -----------------------------------------------------------------------------

_Key = tuple[str, str, str]  # (account, region, name)


class KeyPairService:
    def __init__(self, limits: KeyPairLimits | None = None) -> None:
        self.limits = limits or KeyPairLimits()
        self.pairs: dict[_Key, KeyPair] = {}
        self.retired: set[_Key] = set()  # deleted while bound: never usable again
        self.bindings: dict[str, KeyBinding] = {}
        self.last_id = 0  # the number of the last key pair id given out
        self.changes = Changes()  # what a write touched (see model.changes)

    def _new_id(self) -> str:
        self.last_id += 1
        self.changes.touch(K.KEYPAIRS, "")
        return f"kp-{self.last_id:012x}"

    def _touch_pair(self, account_id: str, region_id: str, name: str) -> None:
        self.changes.touch(K.KEYPAIR, compound(account_id, region_id, name))

    def _touch_binding(self, instance_id: str) -> None:
        self.changes.touch(K.KEYPAIR_BINDING, instance_id)

    # -- queries -------------------------------------------------------------------------

    def get(self, account_id: str, region_id: str, name: str) -> KeyPair:
        pair = self.pairs.get((account_id, region_id, name))
        if pair is None:
            raise ModelError(
                "InvalidKeyPairName.NotFound",
                f"Key pair {name[:128]!r} does not exist in region {region_id}.",
            )
        return pair

    def describe(
        self,
        account_id: str,
        region_id: str,
        name: str | None = None,
        fingerprint: str | None = None,
    ) -> list[KeyPair]:
        """Key pairs of one account and region, by name; `name` may use `*`."""
        out = [
            p
            for (acct, region, _), p in self.pairs.items()
            if acct == account_id
            and region == region_id
            and (name is None or name_matches(name, p.name))
            and (fingerprint is None or p.fingerprint == fingerprint.lower())
        ]
        return sorted(out, key=lambda p: (p.created_at, p.name))

    def binding(self, instance_id: str) -> KeyBinding | None:
        return self.bindings.get(instance_id)

    def instances_using(self, account_id: str, region_id: str, name: str) -> list[str]:
        """Instances whose active or pending key pair is this one (bindings carry the name;
        instance ids are unique across regions)."""
        del account_id, region_id  # bindings are made only within one account and region
        return sorted(
            b.instance_id
            for b in self.bindings.values()
            if (b.active and b.active.name == name) or (b.pending and b.pending.name == name)
        )

    # -- creating --------------------------------------------------------------------------

    def _check_new_name(self, account_id: str, region_id: str, name: str) -> None:
        validate_name(name, self.limits)
        key = (account_id, region_id, name)
        if key in self.pairs:
            raise ModelError("KeyPair.AlreadyExist", f"Key pair {name!r} already exists.")
        if key in self.retired:
            raise ModelError(
                "InvalidKeyPairName.Retired",
                f"Key pair name {name!r} was deleted while instances still used it, so it can "
                "never be used again; choose another name.",
            )
        count = sum(1 for a, r, _ in self.pairs if a == account_id and r == region_id)
        if count >= self.limits.key_pairs_per_region:
            raise ModelError(
                "QuotaExceed.KeyPair",
                f"The account has {count} key pairs in {region_id}, the most allowed "
                f"({self.limits.key_pairs_per_region}); delete some first.",
            )

    def create(
        self,
        account_id: str,
        region_id: str,
        name: str,
        now: datetime,
        generate: KeyGenerator,
        tags: dict[str, str] | None = None,
    ) -> tuple[KeyPair, str]:
        """CreateKeyPair: returns the key pair and its private key (PEM), which is not kept."""
        self._check_new_name(account_id, region_id, name)
        generated = generate()
        return self._add(account_id, region_id, name, generated.public_key, now, tags), (
            generated.private_key_pem
        )

    def import_key(
        self,
        account_id: str,
        region_id: str,
        name: str,
        public_key_body: str,
        now: datetime,
        tags: dict[str, str] | None = None,
    ) -> KeyPair:
        self._check_new_name(account_id, region_id, name)
        return self._add(account_id, region_id, name, public_key_body, now, tags)

    def _add(
        self,
        account: str,
        region: str,
        name: str,
        body: str,
        now: datetime,
        tags: dict[str, str] | None,
    ) -> KeyPair:
        parsed = parse_public_key_body(body)
        pair = KeyPair(
            name,
            parsed.fingerprint,
            parsed.public_key,
            parsed.key_type,
            now,
            region,
            account,
            tags=dict(tags or {}),
        )
        pair.key_pair_id = self._new_id()
        self.pairs[(account, region, name)] = pair
        self._touch_pair(account, region, name)
        return pair

    def set_tags(self, account_id: str, region_id: str, name: str, tags: dict[str, str]) -> None:
        """The key pair's tags become `tags` (checked by the caller: `model.tags`)."""
        pair = self.get(account_id, region_id, name)
        if pair.tags != tags:
            pair.tags = dict(tags)
            self._touch_pair(account_id, region_id, name)

    # -- binding ---------------------------------------------------------------------------

    def _check_batch(self, instance_ids: list[str]) -> list[str]:
        unique = list(dict.fromkeys(instance_ids))
        if not unique:
            raise ModelError(
                "MissingParameter.InstanceIds", "Name at least one instance (InstanceIds)."
            )
        if len(unique) > self.limits.instances_per_attach:
            raise ModelError(
                "InvalidParameter.InstanceIds",
                f"At most {self.limits.instances_per_attach} instances at once; "
                f"{len(unique)} were given.",
            )
        return unique

    @staticmethod
    def _instance_problem(
        view: InstanceView | None, instance_id: str, account_id: str, region_id: str
    ) -> InstanceResult | None:
        if view is None or view.account_id != account_id or view.region_id != region_id:
            return InstanceResult(
                instance_id,
                "InvalidInstanceId.NotFound",
                f"Instance {instance_id[:64]!r} does not exist in region {region_id}.",
            )
        if not view.is_linux:
            return InstanceResult(
                instance_id,
                "DependencyViolation.WindowsInstance",
                "The instance runs Windows; SSH key pairs are for Linux instances only.",
            )
        if not (view.is_running or view.is_stopped):
            return InstanceResult(
                instance_id,
                "IncorrectInstanceStatus",
                "The instance is starting or stopping; try again when it is Running or Stopped.",
            )
        return None

    def attach(
        self,
        account_id: str,
        region_id: str,
        name: str,
        instance_ids: list[str],
        instances: Callable[[str], InstanceView | None],
        now: datetime,
    ) -> list[InstanceResult]:
        """AttachKeyPair. Results per instance (ECS answers each one); a refused instance is
        left as it was. Stopped: effective at once; running: pending until a restart."""
        pair = self.get(account_id, region_id, name)
        unique = self._check_batch(instance_ids)
        results = []
        for instance_id in unique:
            view = instances(instance_id)
            problem = self._instance_problem(view, instance_id, account_id, region_id)
            if problem:
                results.append(problem)
                continue
            assert view is not None
            binding = self.bindings.setdefault(instance_id, KeyBinding(instance_id))
            self._touch_binding(instance_id)
            wanted = BoundKey(pair.name, pair.fingerprint)
            if view.is_running:
                if binding.active == wanted:  # asking for what runs: nothing waits any more
                    binding.pending, binding.pending_detach = None, False
                    binding.requested_at = None
                else:
                    binding.pending, binding.pending_detach = wanted, False
                    binding.requested_at = now
            else:
                binding.active, binding.pending, binding.pending_detach = wanted, None, False
                binding.requested_at = None
                binding.password_login_enabled = False
            results.append(InstanceResult(instance_id, "200", "successful"))
        return results

    def detach(
        self,
        account_id: str,
        region_id: str,
        name: str,
        instance_ids: list[str],
        instances: Callable[[str], InstanceView | None],
        now: datetime,
    ) -> list[InstanceResult]:
        """DetachKeyPair. The key pair may already be deleted: instances still show its name.
        Password login stays as it is (on only if the password was reset since binding)."""
        unique = self._check_batch(instance_ids)
        validate_name(name, self.limits)
        results = []
        for instance_id in unique:
            view = instances(instance_id)
            problem = self._instance_problem(view, instance_id, account_id, region_id)
            if problem:
                results.append(problem)
                continue
            assert view is not None
            binding = self.bindings.get(instance_id)
            effective: BoundKey | None = None
            if binding is not None:
                effective = binding.pending or (None if binding.pending_detach else binding.active)
            if binding is None or effective is None or effective.name != name:
                results.append(
                    InstanceResult(
                        instance_id,
                        "InvalidKeyPairName.NotAttached",
                        f"Key pair {name[:128]!r} is not bound to the instance.",
                    )
                )
                continue
            self._touch_binding(instance_id)
            if view.is_running:
                binding.pending = None
                binding.pending_detach = binding.active is not None
                binding.requested_at = now if binding.pending_detach else None
            else:
                binding.active, binding.pending, binding.pending_detach = None, None, False
                binding.requested_at = None
            results.append(InstanceResult(instance_id, "200", "successful"))
        return results

    def password_reset(self, instance_id: str) -> None:
        """A password reset re-enables password login (for ResetPassword-style actions)."""
        binding = self.bindings.get(instance_id)
        if binding is None:
            self.bindings[instance_id] = KeyBinding(instance_id, password_login_enabled=True)
            self._touch_binding(instance_id)
        elif not binding.password_login_enabled:
            binding.password_login_enabled = True
            self._touch_binding(instance_id)

    def forget_instance(self, instance_id: str) -> None:
        """The instance is deleted: its binding goes (it would follow a reused id)."""
        if self.bindings.pop(instance_id, None) is not None:
            self._touch_binding(instance_id)

    def pending_instance_ids(self) -> list[str]:
        """Instances with a change waiting for their restart, sorted."""
        return sorted(i for i, b in self.bindings.items() if b.has_pending)

    def restart_observed(self, instance_id: str, boot_time: datetime) -> KeyBinding | None:
        """The instance booted at `boot_time` (its latest boot, as its agent reports it): a
        change requested before that boot is now in effect. Idempotent: returns the binding
        when something changed, None when nothing was pending or the boot came before the
        request."""
        binding = self.bindings.get(instance_id)
        if binding is None or not binding.has_pending or binding.requested_at is None:
            return None
        if boot_time < binding.requested_at:
            return None  # a late report of a boot from before the request
        if binding.pending is not None:
            binding.active = binding.pending
            binding.password_login_enabled = False
        else:
            binding.active = None
        binding.pending, binding.pending_detach, binding.requested_at = None, False, None
        self._touch_binding(instance_id)
        return binding

    # -- deleting --------------------------------------------------------------------------

    def delete(self, account_id: str, region_id: str, names: list[str]) -> list[KeyPair]:
        """DeleteKeyPairs: all or nothing. Bindings keep the name; a name still bound is
        retired for good."""
        unique = list(dict.fromkeys(names))
        if not unique:
            raise ModelError("MissingParameter.KeyPairNames", "Name at least one key pair.")
        if len(unique) > self.limits.names_per_delete:
            raise ModelError(
                "InvalidParameter.KeyPairNames",
                f"At most {self.limits.names_per_delete} key pairs at once; "
                f"{len(unique)} were given.",
            )
        pairs = [self.get(account_id, region_id, n) for n in unique]
        for pair in pairs:
            key = (account_id, region_id, pair.name)
            del self.pairs[key]
            self._touch_pair(account_id, region_id, pair.name)
            if self.instances_using(account_id, region_id, pair.name):
                self.retired.add(key)
                self.changes.touch(K.KEYPAIRS, "")  # the retired names are the section's
        return pairs

    # -- document --------------------------------------------------------------------------

    def to_document(self) -> dict:
        return {
            **self.meta_document(),
            "key_pairs": [encode(p) for p in self.pairs.values()],
            "bindings": [encode(b) for b in self.bindings.values()],
        }

    def meta_document(self) -> dict:
        """What the document holds besides key pairs and bindings (the "keypairs" unit)."""
        return {
            "format": FORMAT,
            "limits": encode(self.limits),
            "retired": sorted([list(k) for k in self.retired]),
            "last_id": self.last_id,
        }

    def apply_meta_document(self, doc: dict) -> None:
        """`meta_document`'s fields read back into a live service (a replica catching up)."""
        self.limits = decode(KeyPairLimits, doc.get("limits", {}), "$.keypairs.limits")
        self.retired = {(str(a), str(r), str(n)) for a, r, n in doc.get("retired", [])}
        self.last_id = int(doc.get("last_id", 0))

    @classmethod
    def from_document(cls, doc: dict | None) -> KeyPairService:
        """None (a state saved before key pairs existed) is an empty service."""
        if doc is None:
            return cls()
        if doc.get("format") != FORMAT:
            raise ValueError(f"unknown key pair document format {doc.get('format')!r}")
        service = cls(decode(KeyPairLimits, doc.get("limits", {}), "$.keypairs.limits"))
        for i, item in enumerate(doc.get("key_pairs", [])):
            pair = decode(KeyPair, item, f"$.keypairs.key_pairs[{i}]")
            service.pairs[(pair.account_id, pair.region_id, pair.name)] = pair
        service.last_id = int(doc.get("last_id", 0))
        for pair in sorted(service.pairs.values(), key=lambda p: (p.created_at, p.name)):
            if not pair.key_pair_id:  # stored before key pairs had ids
                pair.key_pair_id = service._new_id()
        service.retired = {(str(a), str(r), str(n)) for a, r, n in doc.get("retired", [])}
        for i, item in enumerate(doc.get("bindings", [])):
            binding = decode(KeyBinding, item, f"$.keypairs.bindings[{i}]")
            service.bindings[binding.instance_id] = binding
        return service


def binding_view(binding: KeyBinding | None) -> dict:
    """A binding as JSON for people and the CLI (`palisade instance show`)."""
    if binding is None:
        return {
            "status": "none",
            "active": None,
            "pending": None,
            "pending_detach": False,
            "password_login_enabled": True,
            "requested_at": None,
        }
    status = "pending" if binding.has_pending else ("active" if binding.active else "none")
    return {
        "status": status,
        "active": encode(binding.active),
        "pending": encode(binding.pending),
        "pending_detach": binding.pending_detach,
        "password_login_enabled": binding.password_login_enabled,
        "requested_at": encode(binding.requested_at),
    }
