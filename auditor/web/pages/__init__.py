"""The dashboard's pages: one module per area, one function per page, each naming the RAM
action it shows. Importing the package registers every page with the router."""

from palisade.auditor.web.pages import (
    alerts,
    instances,
    key_pairs,
    notifications,
    overview,
    ram,
    ram_principals,
    security_group_forms,
    security_groups,
)
from palisade.auditor.web.pages.router import route

__all__ = [
    "alerts",
    "instances",
    "key_pairs",
    "notifications",
    "overview",
    "ram",
    "ram_principals",
    "route",
    "security_group_forms",
    "security_groups",
]
