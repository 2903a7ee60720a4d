"""What the key pair checks are: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta

UNEXPLAINED_KEY = CheckMeta(
    id="keypair.unexplained_authorized_key",
    title="authorized_keys holds a key that the bound key pair does not explain",
    severity="suspicious",
    category="keypair",
    rationale=(
        "With a key pair bound, the cloud expects its public key in authorized_keys. Another key "
        "lets someone else log in, whether added by a user or by an intruder for persistence."
    ),
    remediation=(
        "Remove the key from authorized_keys, or if it is wanted import it as a key pair and "
        "bind that instead."
    ),
)

BOUND_KEY_MISSING = CheckMeta(
    id="keypair.bound_key_missing",
    title="The bound key pair is not in authorized_keys",
    severity="suspicious",
    category="keypair",
    rationale=(
        "The cloud says the instance uses this key pair, yet its public key is in no "
        "authorized_keys file: the host was changed behind the cloud's back, or the key pair "
        "was never installed (the instance was not restarted)."
    ),
    remediation="Restart the instance to apply the binding, or rebind the key pair in use.",
)

PASSWORD_LOGIN_WITH_KEYPAIR = CheckMeta(
    id="keypair.password_login_enabled",
    title="Password login is enabled although a key pair is bound",
    severity="suspicious",
    category="keypair",
    rationale=(
        "Binding a key pair disables password login; sshd accepting passwords again reopens "
        "the instance to password guessing."
    ),
    remediation=(
        "Set PasswordAuthentication no and KbdInteractiveAuthentication no in sshd_config and "
        "reload sshd (or reset the password in the console if passwords are wanted)."
    ),
)

FOREIGN_KEY_LOGIN = CheckMeta(
    id="keypair.login_with_foreign_key",
    title="A publickey login used a key other than the bound key pair",
    severity="suspicious",
    category="keypair",
    rationale="Someone logged in with a key the cloud does not know about.",
    remediation=(
        "Find the key in authorized_keys by its fingerprint, remove it unless it is wanted, "
        "and review the session."
    ),
    kind="event",
)

KEYPAIR_ON_WINDOWS = CheckMeta(
    id="keypair.bound_to_windows",
    title="A key pair is bound to a Windows instance",
    severity="remind",
    category="keypair",
    rationale=(
        "SSH key pairs are for Linux instances only; on Windows the binding protects nothing "
        "and the cloud's view of the instance is probably wrong."
    ),
    remediation="Unbind the key pair and check the instance's OS in the model.",
)
