"""A document that is not a RAM account (or not instance RAM roles) is a ValueError that names
what is wrong."""

import copy

import pytest

from palisade.auditor.model.ram import InstanceRamRoles, account_document
from tests.helpers.ram_account_documents import NO_STOP, rich_account

RICH = account_document.to_document(rich_account()[0])


def edited(edit) -> dict:
    doc = copy.deepcopy(RICH)
    edit(doc)
    return doc


def user(doc: dict, name: str) -> dict:
    return next(u for u in doc["Users"] if u["UserName"] == name)


def custom(doc: dict, name: str) -> dict:
    return next(p for p in doc["Policies"] if p["PolicyName"] == name)


BAD_DOCUMENTS = {
    "format unknown": lambda doc: doc.update(format=2),
    "format missing": lambda doc: doc.pop("format"),
    "format as text": lambda doc: doc.update(format="1"),
    "format as boolean": lambda doc: doc.update(format=True),
    "account id missing": lambda doc: doc.pop("AccountId"),
    "account id empty": lambda doc: doc.update(AccountId=""),
    "users missing": lambda doc: doc.pop("Users"),
    "users not a list": lambda doc: doc.update(Users={"alice": {}}),
    "user not an object": lambda doc: doc["Users"].append("alice"),
    "user name missing": lambda doc: doc["Users"][0].pop("UserName"),
    "user name invalid": lambda doc: doc["Users"][0].update(UserName="bad name"),
    "user name twice": lambda doc: doc["Users"].append(copy.deepcopy(doc["Users"][1])),
    "user id a number": lambda doc: doc["Users"][0].update(UserId=123),
    "comments too long": lambda doc: doc["Users"][0].update(Comments="x" * 129),
    "unknown user field": lambda doc: doc["Users"][0].update(Admin=True),
    "unknown top field": lambda doc: doc.update(Federation=[]),
    "date not a date": lambda doc: doc["Users"][0].update(CreateDate="yesterday"),
    "date without offset": lambda doc: doc["Users"][0].update(CreateDate="2019-09-18T08:00:00"),
    "date a number": lambda doc: doc["Users"][0].update(CreateDate=1568793600),
    "date out of range in UTC": lambda doc: doc["Users"][0].update(
        CreateDate="0001-01-01T00:00:00+01:00"
    ),
    "field name not a string": lambda doc: doc.update({1: "one"}),
    "login profile a string": lambda doc: user(doc, "alice@corp").update(LoginProfile="x"),
    "login profile flag a string": lambda doc: user(doc, "alice@corp")["LoginProfile"].update(
        MFABindRequired="true"
    ),
    "password hash missing": lambda doc: user(doc, "carol")["LoginProfile"].pop("PasswordHash"),
    "access key status unknown": lambda doc: user(doc, "bob")["AccessKeys"][0].update(
        Status="Enabled"
    ),
    "access key secret missing": lambda doc: user(doc, "bob")["AccessKeys"][0].pop(
        "AccessKeySecret"
    ),
    "access key id shared": lambda doc: user(doc, "bob")["AccessKeys"][0].update(
        AccessKeyId=user(doc, "dave")["AccessKeys"][0]["AccessKeyId"]
    ),
    "group member unknown": lambda doc: doc["Groups"][0]["Members"].append("mallory"),
    "group member twice": lambda doc: doc["Groups"][0]["Members"].append("bob"),
    "group member not a string": lambda doc: doc["Groups"][0]["Members"].append(7),
    "policy document invalid JSON": lambda doc: custom(doc, "NoStop")["Versions"][0].update(
        PolicyDocument="{not json"
    ),
    "policy document not RAM's": lambda doc: custom(doc, "NoStop")["Versions"][0].update(
        PolicyDocument='{"Version": "2", "Statement": []}'
    ),
    "policy default version absent": lambda doc: custom(doc, "OfficeEcs").update(
        DefaultVersion="v2"
    ),
    "policy without versions": lambda doc: custom(doc, "NoStop").update(Versions=[]),
    "policy version ahead of counter": lambda doc: custom(doc, "OfficeEcs").update(NextVersion=4),
    "policy version id odd": lambda doc: custom(doc, "NoStop")["Versions"][0].update(
        VersionId="latest"
    ),
    "policy named like a system policy": lambda doc: custom(doc, "NoStop").update(
        PolicyName="AliyunECSFullAccess"
    ),
    "role trust not a trust policy": lambda doc: doc["Roles"][0].update(
        AssumeRolePolicyDocument=NO_STOP
    ),
    "role session duration out of range": lambda doc: doc["Roles"][0].update(MaxSessionDuration=60),
    "attachment to unknown user": lambda doc: doc["Attachments"][0].update(
        PrincipalType="User", PrincipalName="mallory"
    ),
    "attachment of unknown system policy": lambda doc: doc["Attachments"][0].update(
        PolicyType="System", PolicyName="AliyunEverything"
    ),
    "attachment of deleted custom policy": lambda doc: doc["Policies"].pop(
        doc["Policies"].index(custom(doc, "OssRead"))
    ),
    "attachment principal type unknown": lambda doc: doc["Attachments"][0].update(
        PrincipalType="Account"
    ),
    "attachment twice": lambda doc: doc["Attachments"].append(dict(doc["Attachments"][0])),
}


@pytest.mark.parametrize("edit", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_a_bad_document_is_a_value_error(edit):
    with pytest.raises(ValueError):
        account_document.from_document(edited(edit))


@pytest.mark.parametrize("doc", [None, [], "{}", 1, {}])
def test_something_other_than_a_document_is_a_value_error(doc):
    with pytest.raises(ValueError):
        account_document.from_document(doc)
    with pytest.raises(ValueError):
        InstanceRamRoles.from_document(doc)


def test_errors_name_the_format_and_the_field():
    with pytest.raises(ValueError, match="format 2.*reads only format 1"):
        account_document.from_document(edited(lambda doc: doc.update(format=2)))
    with pytest.raises(ValueError, match=r"^Users\[0\]\.UserName is missing"):
        account_document.from_document(edited(lambda doc: doc["Users"][0].pop("UserName")))
    with pytest.raises(ValueError, match=r"Policies\[\d\]\.Versions\[0\]\.PolicyDocument: "):
        account_document.from_document(edited(BAD_DOCUMENTS["policy document invalid JSON"]))
    with pytest.raises(ValueError, match=r"Groups\[0\]\.Members: the user 'mallory'"):
        account_document.from_document(edited(BAD_DOCUMENTS["group member unknown"]))


def test_every_missing_field_is_a_value_error():
    """Drop each field of the document in turn, at every depth."""

    def paths(value, at=()):
        if isinstance(value, dict):
            for key, item in value.items():
                yield (*at, key)
                yield from paths(item, (*at, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from paths(item, (*at, i))

    dropped = 0
    for path in paths(RICH):
        if not isinstance(path[-1], str):
            continue
        doc = copy.deepcopy(RICH)
        holder = doc
        for step in path[:-1]:
            holder = holder[step]
        del holder[path[-1]]
        with pytest.raises(ValueError):
            account_document.from_document(doc)
        dropped += 1
    assert dropped > 100
