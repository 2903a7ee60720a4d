"""RAM, the pure core: policy language and evaluation, users/groups/policies/roles, request
signing, instance roles and STS credentials. No I/O and no clock reads: callers pass `now`,
the request context, the nonce store and the entropy source."""

from palisade.auditor.model.ram.access_keys import NewAccessKey
from palisade.auditor.model.ram.account import RamAccount
from palisade.auditor.model.ram.arns import (
    instance_arn,
    key_pair_arn,
    role_arn,
    security_group_arn,
    user_arn,
)
from palisade.auditor.model.ram.authentication import AuthenticatedRequest, authenticate
from palisade.auditor.model.ram.authorisation import Caller
from palisade.auditor.model.ram.entities import (
    AccessKey,
    AccessKeyStatus,
    Attachment,
    CustomPolicy,
    Group,
    LoginProfile,
    PolicyVersion,
    PrincipalKind,
    Role,
    User,
)
from palisade.auditor.model.ram.errors import PolicyError, RamError
from palisade.auditor.model.ram.evaluation import (
    Decision,
    DecisionReason,
    NamedPolicy,
    PolicyType,
    StatementRef,
    evaluate,
)
from palisade.auditor.model.ram.findings import (
    DualAccessFinding,
    users_with_password_and_access_keys,
)
from palisade.auditor.model.ram.instance_roles import (
    InstanceRamRoles,
    InstanceRef,
    InstanceRoleChange,
)
from palisade.auditor.model.ram.policies import PolicySummary
from palisade.auditor.model.ram.policy_language import (
    MAX_POLICY_DOCUMENT_LENGTH,
    Effect,
    PolicyDocument,
    PolicyKind,
    Principal,
    Statement,
    parse_policy,
    parse_trust_policy,
    trusts_service,
)
from palisade.auditor.model.ram.request_context import RequestContext
from palisade.auditor.model.ram.signing import (
    InMemoryNonceRegistry,
    NonceRegistry,
    VerifiedRequest,
    canonical_request,
    sign,
    sign_request,
    verify,
)
from palisade.auditor.model.ram.sts import (
    RoleCredentials,
    SessionClaims,
    issue_role_credentials,
    verify_security_token,
)
from palisade.auditor.model.ram.system_policies import SYSTEM_POLICIES, SystemPolicy

__all__ = [
    "AccessKey",
    "AccessKeyStatus",
    "Attachment",
    "AuthenticatedRequest",
    "Caller",
    "CustomPolicy",
    "Decision",
    "DecisionReason",
    "DualAccessFinding",
    "Effect",
    "Group",
    "InMemoryNonceRegistry",
    "InstanceRamRoles",
    "InstanceRef",
    "InstanceRoleChange",
    "LoginProfile",
    "MAX_POLICY_DOCUMENT_LENGTH",
    "NamedPolicy",
    "NewAccessKey",
    "NonceRegistry",
    "PolicyDocument",
    "PolicyError",
    "PolicyKind",
    "PolicySummary",
    "PolicyType",
    "PolicyVersion",
    "Principal",
    "PrincipalKind",
    "RamAccount",
    "RamError",
    "RequestContext",
    "Role",
    "RoleCredentials",
    "SYSTEM_POLICIES",
    "SessionClaims",
    "Statement",
    "StatementRef",
    "SystemPolicy",
    "User",
    "VerifiedRequest",
    "authenticate",
    "instance_arn",
    "key_pair_arn",
    "role_arn",
    "security_group_arn",
    "user_arn",
    "canonical_request",
    "evaluate",
    "issue_role_credentials",
    "parse_policy",
    "parse_trust_policy",
    "sign",
    "sign_request",
    "trusts_service",
    "users_with_password_and_access_keys",
    "verify",
    "verify_security_token",
]
