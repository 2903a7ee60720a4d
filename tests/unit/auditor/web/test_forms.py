"""The dashboard's forms run the API actions: groups, key pairs, notifications, RAM, with
RAM deciding (a user without the action is refused and nothing changes), and the nav shows
only the pages a user may open."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers.in_process_dashboard import DashboardHarness

R = {"RegionId": "cn-hangzhou"}
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


@pytest.fixture
def dash(tmp_path):
    h = DashboardHarness(tmp_path / "dash")
    h.call("AddRegion", RegionId="cn-shanghai")
    h.vpc = h.call("CreateVpc", **R, CidrBlock="172.16.0.0/16")["VpcId"]
    h.vpc2 = h.call("CreateVpc", RegionId="cn-shanghai", CidrBlock="10.0.0.0/16")["VpcId"]
    yield h
    h.store.close()


def _group_named(dash, name: str):
    return next(g for g in dash.api.current().cloud.groups.values() if g.name == name)


def test_create_rename_policy_clone_and_delete_a_group(dash):
    reply = dash.post(
        "/ui/security-groups", vpc=dash.vpc, name="web", description="web tier", type="normal"
    )
    assert "created" in dash.message(dash.follow(reply))
    group = _group_named(dash, "web")
    assert group.vpc_id == dash.vpc and group.region_id == "cn-hangzhou"
    gid = group.group_id
    reply = dash.post(f"/ui/security-groups/{gid}/attributes", name="web-2", description="new text")
    assert dash.message(dash.follow(reply)) == "Saved."
    reply = dash.post(f"/ui/security-groups/{gid}/policy", inner_access_policy="Drop")
    page = dash.text(dash.follow(reply))
    assert "InnerAccessPolicy: <b>Drop</b>" in page
    # clone to another region without a VPC: the API's MissingParameter.VpcId is shown
    reply = dash.post(f"/ui/security-groups/{gid}/clone", region="cn-shanghai", name="far")
    assert "VpcId" in dash.message(dash.follow(reply))
    # with the other region's VPC (the region follows from the VPC)
    reply = dash.post(f"/ui/security-groups/{gid}/clone", vpc=dash.vpc2, name="far")
    assert dash.message(dash.follow(reply)) == "Cloned."
    far = _group_named(dash, "far")
    assert (far.region_id, far.vpc_id) == ("cn-shanghai", dash.vpc2)
    reply = dash.post(f"/ui/security-groups/{gid}/delete")
    assert "deleted" in dash.message(dash.follow(reply))
    assert gid not in dash.api.current().cloud.groups


def test_key_pairs_create_shows_the_private_key_once_and_attach_detach_delete(dash):
    group = dash.call("CreateSecurityGroup", **R, VpcId=dash.vpc)["SecurityGroupId"]
    dash.call(
        "RunInstances",
        **R,
        VpcId=dash.vpc,
        SecurityGroupIds=group,
        InstanceId="i-1",
        PrivateIpAddress="172.16.0.5",
    )
    page = dash.text(dash.post("/ui/key-pairs", region="cn-hangzhou", name="made"))
    assert "BEGIN RSA PRIVATE KEY" in page or "BEGIN PRIVATE KEY" in page
    assert "BEGIN" not in dash.text(dash.get("/ui/key-pairs"))  # once only
    reply = dash.post("/ui/key-pairs/import", region="cn-hangzhou", name="mine", public_key=ED25519)
    assert "imported" in dash.message(dash.follow(reply))
    reply = dash.post("/ui/key-pairs/attach", name="mine", instances="i-1")
    assert "attached" in dash.message(dash.follow(reply))
    assert dash.api.current().keypairs.binding("i-1") is not None
    reply = dash.post("/ui/key-pairs/detach", name="mine", instances="i-1")
    assert "detached" in dash.message(dash.follow(reply))
    reply = dash.post("/ui/key-pairs/delete", name="made")
    assert "deleted" in dash.message(dash.follow(reply))
    names = {kp.name for kp in dash.api.current().keypairs.pairs.values()}
    assert names == {"mine"}


def test_key_pairs_are_paged_in_natural_order(dash):
    for n in range(1, 56):
        dash.call("ImportKeyPair", **R, KeyPairName=f"key-{n}", PublicKeyBody=_key(n))
    first = re.findall(r'<td class="nowrap">(key-\d+)</td>', dash.text(dash.get("/ui/key-pairs")))
    assert first[:3] == ["key-1", "key-2", "key-3"] and len(first) == 50
    second = dash.text(dash.get("/ui/key-pairs?page=2"))
    assert re.findall(r'<td class="nowrap">(key-\d+)</td>', second) == [
        f"key-{n}" for n in range(51, 56)
    ]


def _key(n: int) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32).public_key()
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def test_channels_and_subscriptions(dash):
    reply = dash.post(
        "/ui/notifications/channels",
        kind="email",
        name="ops mail",
        recipients="ops@example.com",
        sender="palisade@example.com",
        smtp_host="127.0.0.1",
        smtp_port="2525",
        security="none",
    )
    assert dash.message(dash.follow(reply)) == "Channel created."
    channels = dash.call("DescribeNotificationChannels")["Channels"]["Channel"]
    channel = next(c for c in channels if c["Name"] == "ops mail")
    reply = dash.post(
        "/ui/notifications/subscriptions",
        category="alerts",
        level_serious="1",
        channel=channel["ChannelId"],
    )
    assert dash.message(dash.follow(reply)) == "Subscribed."
    subs = dash.call("DescribeSubscriptions")["Subscriptions"]["Subscription"]
    assert [(s["Category"], s["Levels"]) for s in subs] == [("alerts", ["serious"])]
    reply = dash.post(f"/ui/notifications/subscriptions/{subs[0]['SubscriptionId']}/delete")
    assert "deleted" in dash.message(dash.follow(reply))
    reply = dash.post(f"/ui/notifications/channels/{channel['ChannelId']}/delete")
    assert "deleted" in dash.message(dash.follow(reply))
    assert not dash.call("DescribeSubscriptions")["Subscriptions"]["Subscription"]


def test_ram_user_with_a_custom_policy_sees_only_its_pages_and_is_refused_the_rest(dash):
    bad = dash.post("/ui/ram/policies", name="Broken", document='{"Version": "1", "Statement": [')
    assert bad.status == 400
    assert "line 1 column" in dash.text(bad) and 'id="policy-error"' in dash.text(bad)
    assert "{&#34;Version&#34;: &#34;1&#34;" in dash.text(bad)  # kept as typed, escaped
    document = json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": ["ecs:DescribeKeyPairs"], "Resource": "*"}],
        }
    )
    reply = dash.post("/ui/ram/policies", name="KeyViewer", document=document)
    assert "created" in dash.message(dash.follow(reply))
    reply = dash.post("/ui/ram/users", name="kim", password="Kim-pass-12345678")
    assert "created" in dash.message(dash.follow(reply))
    reply = dash.post("/ui/ram/attachments/attach", user="kim", policy="Custom:KeyViewer")
    assert "attached" in dash.message(dash.follow(reply))
    assert dash.api.current().ram.check_console_password("kim", "Kim-pass-12345678")
    dash.login_as("kim")
    page = dash.text(dash.get("/ui/key-pairs"))
    nav = page.split("<nav>", 1)[1].split("</nav>", 1)[0]
    assert "/ui/key-pairs" in nav and "/ui/security-groups" not in nav and "/ui/ram" not in nav
    assert 'id="create-key"' not in page
    assert dash.get("/ui/security-groups").status == 403
    reply = dash.post("/ui/key-pairs", region="cn-hangzhou", name="sneaky")
    assert "Forbidden" in dash.message(dash.follow(reply))
    assert not dash.api.current().keypairs.pairs


def test_a_form_without_the_csrf_token_is_refused(dash):
    dash.csrf = "wrong"
    reply = dash.post("/ui/security-groups", vpc=dash.vpc, name="nope")
    assert reply.status == 403
    assert not dash.api.current().cloud.groups or all(
        g.name != "nope" for g in dash.api.current().cloud.groups.values()
    )


def test_access_keys_secret_shown_once_disable_and_delete(dash):
    dash.call("CreateUser", UserName="robot")
    page = dash.text(dash.post("/ui/ram/users/robot/access-keys"))
    key_id = re.search(r'id="new-key-id">([A-Za-z0-9]+)<', page).group(1)
    secret = re.search(r'id="new-key-secret" value="([^"]+)"', page).group(1)
    assert len(secret) >= 30
    assert secret not in dash.text(dash.get("/ui/ram"))  # once only
    reply = dash.post(f"/ui/ram/users/robot/access-keys/{key_id}/Inactive")
    assert dash.message(dash.follow(reply)) == f"AccessKey {key_id}: Inactive."
    keys = dash.call("ListAccessKeys", UserName="robot")["AccessKeys"]["AccessKey"]
    assert [k["Status"] for k in keys] == ["Inactive"]
    reply = dash.post(f"/ui/ram/users/robot/access-keys/{key_id}/delete")
    assert "deleted" in dash.message(dash.follow(reply))
    assert not dash.call("ListAccessKeys", UserName="robot")["AccessKeys"]["AccessKey"]


def test_ram_groups_and_roles(dash):
    dash.call("CreateUser", UserName="ann")
    reply = dash.post("/ui/ram/groups", name="ops", comments="operators")
    assert dash.message(dash.follow(reply)) == "Group ops created."
    reply = dash.post("/ui/ram/groups/ops/add", user="ann")
    assert "added" in dash.message(dash.follow(reply))
    reply = dash.post(
        "/ui/ram/principals/attach", principal="group:ops", policy="System:AliyunECSReadOnlyAccess"
    )
    page = dash.follow(reply)
    assert "attached" in dash.message(page), dash.message(page)
    groups = dash.text(page).split('id="ram-groups"', 1)[1].split("</table>", 1)[0]
    assert "ann" in groups and "AliyunECSReadOnlyAccess" in groups
    from palisade.auditor.web.pages.ram_principals import ECS_TRUST

    reply = dash.post("/ui/ram/roles", name="EcsRole", trust=ECS_TRUST)
    assert dash.message(dash.follow(reply)) == "Role EcsRole created."
    bad = dash.post("/ui/ram/roles", name="Bad", trust="{")
    assert "line 1 column" in dash.message(dash.follow(bad))
    reply = dash.post("/ui/ram/roles/EcsRole/delete")
    assert "deleted" in dash.message(dash.follow(reply))
    reply = dash.post("/ui/ram/groups/ops/remove", user="ann")
    assert "removed" in dash.message(dash.follow(reply))
    reply = dash.post(
        "/ui/ram/principals/detach", principal="group:ops", policy="System:AliyunECSReadOnlyAccess"
    )
    assert "detached" in dash.message(dash.follow(reply))
    reply = dash.post("/ui/ram/groups/ops/delete")
    assert "deleted" in dash.message(dash.follow(reply))
