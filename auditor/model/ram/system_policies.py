"""RAM's system policies that the ECS security guide names, as data (modelled on Alibaba
Cloud's own).

The guide lists the five ECS ones; AdministratorAccess and the RAM ones are what an
account's first administrator and its RAM operators get. Documents are kept as the JSON text
RAM shows, and parsed once at import so a typo here fails every test run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from palisade.auditor.model.ram.evaluation import NamedPolicy, PolicyType
from palisade.auditor.model.ram.policy_language import PolicyDocument, parse_policy


@dataclass(frozen=True)
class SystemPolicy:
    name: str
    description: str
    document_text: str
    document: PolicyDocument

    def as_named(self, attached_to: str = "") -> NamedPolicy:
        return NamedPolicy(self.name, PolicyType.SYSTEM, self.document, attached_to)


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)}, indent=4)


def _allow(actions: str | list[str], **extra: object) -> dict:
    return {"Action": actions, "Resource": "*", "Effect": "Allow", **extra}


_DEFINITIONS: tuple[tuple[str, str, str], ...] = (
    (
        "AdministratorAccess",
        "Full access to all Alibaba Cloud services and resources (管理所有阿里云资源的权限)",
        _doc(_allow("*")),
    ),
    (
        "AliyunECSReadOnlyAccess",
        "Read-only access to ECS (只读访问云服务器ECS的权限)",
        _doc(
            _allow("ecs:Describe*"),
            _allow("ecs:List*"),
            _allow("vpc:Describe*"),
        ),
    ),
    (
        "AliyunECSFullAccess",
        "Administrator access to ECS (云服务器ECS的管理员级别权限)",
        _doc(
            _allow("ecs:*"),
            _allow("vpc:*"),
            _allow(
                [
                    "bss:ModifyAgreementRecord",
                    "bss:DescribeOrderList",
                    "bss:DescribeOrderDetail",
                    "bss:PayOrder",
                    "bss:CancelOrder",
                ]
            ),
            _allow(
                "ram:CreateServiceLinkedRole",
                Condition={"StringEquals": {"ram:ServiceName": ["ecs.aliyuncs.com"]}},
            ),
        ),
    ),
    (
        "AliyunECSImageImportDefaultRole",
        "Lets ECS read an image file from OSS to import it (导入自定义镜像的权限)",
        _doc(_allow(["oss:GetObject", "oss:GetBucketLocation", "oss:GetBucketInfo"])),
    ),
    (
        "AliyunECSImageExportDefaultRole",
        "Lets ECS write an exported image to OSS (导出自定义镜像的权限)",
        _doc(
            _allow(
                [
                    "oss:GetObject",
                    "oss:PutObject",
                    "oss:DeleteObject",
                    "oss:GetBucketLocation",
                    "oss:GetBucketInfo",
                    "oss:AbortMultipartUpload",
                    "oss:ListMultipartUploads",
                    "oss:ListParts",
                ]
            )
        ),
    ),
    (
        "AliyunECSNetworkInterfaceManagementAccess",
        "Manage elastic network interfaces (管理弹性网卡的权限)",
        _doc(
            _allow(
                [
                    "ecs:CreateNetworkInterface",
                    "ecs:DeleteNetworkInterface",
                    "ecs:DescribeNetworkInterfaces",
                    "ecs:AttachNetworkInterface",
                    "ecs:DetachNetworkInterface",
                    "ecs:ModifyNetworkInterfaceAttribute",
                    "ecs:AssignPrivateIpAddresses",
                    "ecs:UnassignPrivateIpAddresses",
                    "ecs:CreateNetworkInterfacePermission",
                    "ecs:DescribeNetworkInterfacePermissions",
                    "ecs:DeleteNetworkInterfacePermission",
                ]
            ),
            _allow(["vpc:DescribeVSwitches", "vpc:DescribeVpcs"]),
        ),
    ),
    (
        "AliyunRAMFullAccess",
        "Manage users, groups, roles and permissions in RAM (管理访问控制RAM的权限)",
        _doc(_allow("ram:*")),
    ),
    (
        "AliyunRAMReadOnlyAccess",
        "Read-only access to RAM (只读访问访问控制RAM的权限)",
        _doc(_allow(["ram:Get*", "ram:List*"])),
    ),
    (
        "AliyunSTSAssumeRoleAccess",
        "Call STS AssumeRole (调用STS服务AssumeRole接口的权限)",
        _doc(_allow("sts:AssumeRole")),
    ),
)

SYSTEM_POLICIES: dict[str, SystemPolicy] = {
    name: SystemPolicy(name, description, text, parse_policy(text))
    for name, description, text in _DEFINITIONS
}
