"""The common-ports catalogue: which service a well-known port belongs to and how much it
matters when the internet can reach it.

The common-ports table of the ECS security guide (section 1.3: 21, 22, 23, 25, 80, 110, 143,
443, 1433, 1434/udp, 1521, 3306, 3389, 8080, 137-139), plus the ports the console's
quick-create offers (5432, 6379) and the databases, caches and control planes that are
commonly found open on the internet.
"""

from __future__ import annotations

from dataclasses import dataclass

# How bad it is when the internet reaches the service (the checks' severity vocabulary).
SERIOUS = "serious"  # data stores, unauthenticated control planes, clear-text remote shells
SUSPICIOUS = "suspicious"  # remote administration, file sharing, mail
REMIND = "remind"  # services usually meant to be public (web)


@dataclass(frozen=True)
class PortService:
    protocol: str  # "tcp" | "udp"
    port_lo: int
    port_hi: int
    service: str
    kind: str  # database, cache, search, remote-admin, file-transfer, file-sharing, mail, web, ...
    risk: str  # SERIOUS | SUSPICIOUS | REMIND when reachable from the internet
    high_risk: bool  # opening it to 0.0.0.0/0 is itself a finding
    in_ecs_guide: bool = False  # listed in the ECS security guide's common-ports table

    def covers(self, protocol: str, port: int) -> bool:
        return protocol == self.protocol and self.port_lo <= port <= self.port_hi

    @property
    def label(self) -> str:
        ports = (
            str(self.port_lo) if self.port_lo == self.port_hi else f"{self.port_lo}-{self.port_hi}"
        )
        return f"{self.protocol}/{ports} {self.service}"


def _p(proto, lo, hi, service, kind, risk, high_risk, in_ecs_guide=False) -> PortService:
    return PortService(proto, lo, hi, service, kind, risk, high_risk, in_ecs_guide)


COMMON_PORTS: tuple[PortService, ...] = (
    # the ECS security guide's table
    _p("tcp", 21, 21, "FTP", "file-transfer", SUSPICIOUS, True, True),
    _p("tcp", 22, 22, "SSH", "remote-admin", SUSPICIOUS, True, True),
    _p("tcp", 23, 23, "Telnet", "remote-admin", SERIOUS, True, True),
    _p("tcp", 25, 25, "SMTP", "mail", SUSPICIOUS, False, True),
    _p("tcp", 80, 80, "HTTP", "web", REMIND, False, True),
    _p("tcp", 110, 110, "POP3", "mail", SUSPICIOUS, False, True),
    _p("tcp", 143, 143, "IMAP", "mail", SUSPICIOUS, False, True),
    _p("tcp", 443, 443, "HTTPS", "web", REMIND, False, True),
    _p("tcp", 1433, 1433, "SQL Server", "database", SERIOUS, True, True),
    _p("udp", 1434, 1434, "SQL Server Browser", "database", SERIOUS, True, True),
    _p("tcp", 1521, 1521, "Oracle", "database", SERIOUS, True, True),
    _p("tcp", 3306, 3306, "MySQL", "database", SERIOUS, True, True),
    _p("tcp", 3389, 3389, "RDP (Windows Remote Desktop)", "remote-admin", SUSPICIOUS, True, True),
    _p("tcp", 8080, 8080, "HTTP proxy", "web", REMIND, False, True),
    _p("tcp", 137, 139, "NetBIOS", "file-sharing", SERIOUS, True, True),
    _p("udp", 137, 139, "NetBIOS", "file-sharing", SERIOUS, True, True),
    # quick-create extras and common data stores / control planes
    _p("tcp", 5432, 5432, "PostgreSQL", "database", SERIOUS, True),
    _p("tcp", 6379, 6379, "Redis", "cache", SERIOUS, True),
    _p("tcp", 27017, 27017, "MongoDB", "database", SERIOUS, True),
    _p("tcp", 9200, 9200, "Elasticsearch HTTP", "search", SERIOUS, True),
    _p("tcp", 9300, 9300, "Elasticsearch transport", "search", SERIOUS, True),
    _p("tcp", 11211, 11211, "Memcached", "cache", SERIOUS, True),
    _p("udp", 11211, 11211, "Memcached", "cache", SERIOUS, True),
    _p("tcp", 5984, 5984, "CouchDB", "database", SERIOUS, True),
    _p("tcp", 9042, 9042, "Cassandra", "database", SERIOUS, True),
    _p("tcp", 2379, 2380, "etcd", "database", SERIOUS, True),
    _p("tcp", 2375, 2375, "Docker API (plain)", "control-plane", SERIOUS, True),
    _p("tcp", 10250, 10250, "Kubelet API", "control-plane", SERIOUS, True),
    _p("tcp", 445, 445, "SMB", "file-sharing", SERIOUS, True),
    _p("tcp", 135, 135, "MS RPC", "file-sharing", SERIOUS, True),
    _p("tcp", 5900, 5900, "VNC", "remote-admin", SERIOUS, True),
    _p("tcp", 5985, 5986, "WinRM", "remote-admin", SUSPICIOUS, True),
    _p("tcp", 2049, 2049, "NFS", "file-sharing", SERIOUS, True),
    _p("udp", 161, 161, "SNMP", "monitoring", SUSPICIOUS, True),
    _p("tcp", 5672, 5672, "AMQP (RabbitMQ)", "queue", SUSPICIOUS, True),
    _p("tcp", 9092, 9092, "Kafka", "queue", SUSPICIOUS, True),
    _p("tcp", 2181, 2181, "ZooKeeper", "control-plane", SERIOUS, True),
    _p("tcp", 8443, 8443, "HTTPS (alternate)", "web", REMIND, False),
    _p("tcp", 53, 53, "DNS", "dns", REMIND, False),
    _p("udp", 53, 53, "DNS", "dns", REMIND, False),
    _p("udp", 123, 123, "NTP", "time", REMIND, False),
)


def lookup(protocol: str, port: int) -> PortService | None:
    """The catalogue entry for a port, or None for an unrecognised one."""
    protocol = protocol.lower()
    return next((s for s in COMMON_PORTS if s.covers(protocol, port)), None)


def high_risk_in(protocol: str, lo: int, hi: int) -> list[PortService]:
    """High-risk services whose ports intersect [lo, hi]."""
    protocol = protocol.lower()
    return [
        s
        for s in COMMON_PORTS
        if s.high_risk and s.protocol == protocol and s.port_lo <= hi and lo <= s.port_hi
    ]
