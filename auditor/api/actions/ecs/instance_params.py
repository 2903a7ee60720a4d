"""The RunInstances / CreateInstance parameters that describe the machine (image, type,
system disk, host name), read and checked with the ECS API reference's error codes."""

from __future__ import annotations

import re

from palisade.auditor.api.params import Params
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import (
    DEFAULT_INSTANCE_TYPE,
    OsFamily,
    SystemDisk,
    image_os_family,
)

MAX_AMOUNT = 100  # RunInstances creates at most 100 instances a call

_TYPE = re.compile(r"^ecs\.[a-z0-9][a-z0-9-]{0,30}\.[a-z0-9-]{1,20}$")
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_IMAGE_SIZE = re.compile(r"_([0-9]{1,4})G_", re.IGNORECASE)  # ubuntu_22_04_x64_20G_...
DISK_CATEGORIES = (
    "cloud",
    "cloud_efficiency",
    "cloud_ssd",
    "cloud_essd",
    "cloud_auto",
    "cloud_essd_entry",
)
PERFORMANCE_LEVELS = ("PL0", "PL1", "PL2", "PL3")
DISK_MIN_GIB, DISK_MAX_GIB = 20, 2048
_HOST_LINUX = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,62}[A-Za-z0-9])$")
_HOST_WINDOWS = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,13}[A-Za-z0-9])$")


def check_text(p: Params, name: str, limit: int, code: str) -> str:
    value = p.str(name, "") or ""
    if len(value) > limit:
        raise ModelError(code, f"{name} is at most {limit} characters.")
    return value


def instance_type(p: Params) -> str:
    kind = p.str("InstanceType", DEFAULT_INSTANCE_TYPE) or DEFAULT_INSTANCE_TYPE
    if not _TYPE.match(kind):
        raise ModelError(
            "InvalidInstanceType.ValueNotSupported",
            f"InstanceType {kind[:64]!r} is not an ECS instance type; use a name such as "
            f"{DEFAULT_INSTANCE_TYPE}.",
        )
    return kind


def os_family(os_type: str | None, image_id: str) -> str:
    """OsType when given, else what a public image's name says, else linux."""
    if image_id and not _IMAGE.match(image_id):
        raise ModelError(
            "InvalidImageId.Malformed",
            f"ImageId {image_id[:64]!r} is not valid; use an image id such as "
            "ubuntu_22_04_x64_20G_alibase_20230907.vhd or m-bp1xxxxxxxx.",
        )
    family = image_os_family(image_id)
    if os_type:
        if family is not None and os_type.lower() != family.value:
            raise ModelError(
                "InvalidParameter.Mismatch",
                f"ImageId {image_id[:64]!r} is a {family.value} image, not {os_type[:20]!r}; "
                "drop OsType or use a matching image.",
            )
        return os_type.lower()
    return (family or OsFamily.LINUX).value


def system_disk(p: Params, image_id: str, os_type: str) -> SystemDisk:
    """`SystemDisk.Category`, `.Size` (GiB, at least the image's size), `.PerformanceLevel`
    (cloud_essd only), `.DiskName`, `.Description`."""
    fields = {"Category", "Size", "PerformanceLevel", "DiskName", "Description"}
    for key in p.raw:
        if key.startswith("SystemDisk") and key.removeprefix("SystemDisk.") not in fields:
            raise ModelError(
                f"InvalidParameter.{key[:64]}",
                f"{key[:64]} is not a SystemDisk field; use SystemDisk."
                + ", SystemDisk.".join(sorted(fields)),
            )
    category = p.str("SystemDisk.Category", "cloud_efficiency") or "cloud_efficiency"
    if category not in DISK_CATEGORIES:
        raise ModelError(
            "InvalidSystemDiskCategory.ValueNotSupported",
            f"SystemDisk.Category {category[:40]!r} is not supported; use one of "
            f"{', '.join(DISK_CATEGORIES)}.",
        )
    m = _IMAGE_SIZE.search(image_id or "")
    image_gib = int(m.group(1)) if m else 0
    default = max(image_gib, 40 if os_type == OsFamily.WINDOWS.value else DISK_MIN_GIB, 40)
    text = p.str("SystemDisk.Size")
    if text is None:
        size = default
    elif not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise ModelError(
            "InvalidSystemDiskSize.ValueNotSupported",
            f"SystemDisk.Size {text[:20]!r} is not a whole number of GiB.",
        )
    else:
        size = int(text)
        if not DISK_MIN_GIB <= size <= DISK_MAX_GIB:
            raise ModelError(
                "InvalidSystemDiskSize.ValueNotSupported",
                f"SystemDisk.Size {size} is outside {DISK_MIN_GIB}..{DISK_MAX_GIB} GiB.",
            )
        if size < image_gib:
            raise ModelError(
                "InvalidSystemDiskSize.LessThanImageSize",
                f"SystemDisk.Size {size} GiB is smaller than the image ({image_gib} GiB).",
            )
    level = p.str("SystemDisk.PerformanceLevel", "") or ""
    if level and (level not in PERFORMANCE_LEVELS or category != "cloud_essd"):
        raise ModelError(
            "InvalidSystemDiskPerformanceLevel.ValueNotSupported",
            f"SystemDisk.PerformanceLevel {level[:10]!r} is not valid; PL0..PL3 go with "
            "SystemDisk.Category cloud_essd.",
        )
    if category == "cloud_essd" and not level:
        level = "PL1"  # ECS's default level for an ESSD
    name = check_text(p, "SystemDisk.DiskName", 128, "InvalidSystemDiskName.Malformed")
    description = check_text(
        p, "SystemDisk.Description", 256, "InvalidSystemDiskDescription.Malformed"
    )
    return SystemDisk(category, size, level, name, description)


def check_host_name(host_name: str, os_type: str) -> None:
    """Linux: 2..64 letters, digits, dots and hyphens, not starting or ending with a dot or a
    hyphen; Windows: 2..15 letters, digits and hyphens (the NetBIOS limit)."""
    windows = os_type == OsFamily.WINDOWS.value
    pattern = _HOST_WINDOWS if windows else _HOST_LINUX
    if not pattern.match(host_name) or ".." in host_name or host_name.isdigit():
        raise ModelError(
            "InvalidHostName.Malformed",
            f"HostName {host_name[:64]!r} is not valid; "
            + (
                "a Windows host name is 2 to 15 letters, digits and hyphens."
                if windows
                else "use 2 to 64 letters, digits, dots and hyphens, not starting or ending "
                "with a dot or hyphen."
            ),
        )
