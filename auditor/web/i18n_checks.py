# ruff: noqa: E501  (CJK characters count double: the translated sentences stay whole)
"""The checks' own words in Simplified Chinese: each check's title, rationale and remediation
(auditor/checks/*/metadata.py), keyed by the English text the metadata holds, so an alert's
page and list read in one language. A unit test fails when a check's text has no entry."""

from __future__ import annotations

ZH_CHECKS = {
    # cloud drift
    "The cloud changed a resource Palisade had modelled": "云上资源被改动，与 Palisade 的模型不一致",
    "A change made in the cloud outside Palisade (a rule opened in the console, an instance or key pair added by a script) is not what the security team reviewed; an attacker with cloud credentials makes changes the same way.": "在 Palisade 之外对云上资源的改动（在控制台放开一条规则、由脚本添加的实例或密钥对）未经安全团队审核；持有云账号凭证的攻击者也会这样做出改动。",
    "Check who changed the resource in the cloud's own audit trail (ActionTrail); keep the change if it was meant, revert it in the cloud otherwise.": "在云的操作审计（ActionTrail）中查明是谁改动了该资源；如属有意的改动则保留，否则在云上撤销。",
    # rule advice
    "A security group rule never decides": "安全组规则永远不会生效",
    "Stronger or earlier rules of the group cover all of this rule's traffic, so it never applies; a rule set with dead rules is harder to read and to audit.": "组内优先级更高或更靠前的规则已覆盖该规则的全部流量，它永远不会生效；含有无效规则的规则集更难阅读和审计。",
    "Remove the rule, or give it a smaller priority number if it was meant to win.": "删除该规则；如果它本应优先生效，请给它更小的优先级数值。",
    "A security group rule repeats another": "安全组规则与另一条重复",
    "Two rules with the same direction, policy, protocol, ports, peer and priority count twice against the rule limit and do the work of one.": "方向、策略、协议、端口、对端和优先级都相同的两条规则会占用两条规则配额，却只起一条的作用。",
    "Remove one of the two rules.": "删除两条规则中的一条。",
    "An accept rule and a drop rule of equal priority overlap": "优先级相同的允许规则与拒绝规则重叠",
    "On equal priority drop wins: where the two rules overlap the accept rule does not apply, which is rarely what its author meant.": "优先级相同时拒绝优先：两条规则重叠之处允许规则不会生效，这通常不是其作者的本意。",
    "Remove one of the rules or give them different priorities.": "删除其中一条规则，或为它们设置不同的优先级。",
    "A rule accepts a port range or every protocol from the whole internet": "规则向整个公网开放端口范围或所有协议",
    "The ECS security guide: open single ports to the sources that need them (least privilege); a range or all protocols from 0.0.0.0/0 exposes whatever listens there.": "ECS 安全指南：只向需要的来源开放单个端口（最小权限）；向 0.0.0.0/0 开放端口范围或所有协议会暴露其上监听的一切服务。",
    "Replace the rule by rules for single ports (e.g. 80/80) and narrow the source.": "用单端口规则（如 80/80）替换该规则，并缩小来源范围。",
    "A security group or NIC is near its limit": "安全组或网卡接近配额上限",
    "A group holds at most 200 rules and a NIC is governed by at most 1,000 across its groups (and joins a limited number of groups); near the limit a needed rule cannot be added in an incident.": "一个安全组最多 200 条规则，一块网卡在其所有安全组中最多受 1,000 条规则约束（且可加入的安全组数量有限）；接近上限时，应急所需的规则可能无法添加。",
    "Remove redundant rules, merge groups with the same needs or split by tier.": "删除冗余规则，合并需求相同的安全组，或按层级拆分。",
    "Security groups are not used as the ECS security guide advises": "安全组的使用方式不符合 ECS 安全指南的建议",
    "The ECS security guide: groups are allow-lists starting from deny-all, tiers get their own groups, and instances with the same needs share one.": "ECS 安全指南：安全组应是从全部拒绝开始的白名单，不同层级使用各自的安全组，需求相同的实例共用一个安全组。",
    "Start from deny-all and open what is needed; give each tier its own group; test changes on a clone of a production group first.": "从全部拒绝开始，只开放需要的访问；为每个层级建立各自的安全组；先在生产安全组的克隆上测试变更。",
    # baseline
    "Baseline configuration check failed": "基线配置检查未通过",
    "Hardening items of the CIS benchmarks (sshd, accounts, file modes, Windows).": (
        "CIS 基准中的加固项（sshd、账号、文件权限、Windows）。"
    ),
    "See each finding's remediation (from its policy).": "参见每条结果的修复建议（来自其策略）。",
    # ddos
    "Inbound traffic is above the DDoS scrubbing threshold": "入方向流量超过 DDoS 清洗阈值",
    "Above the instance type's BPS or PPS threshold, DDoS basic protection scrubs the "
    "instance's traffic: an attack is likely under way.": (
        "超过实例规格的 BPS 或 PPS 阈值后，DDoS 基础防护会清洗实例流量：很可能正在遭受攻击。"
    ),
    "Check the source of the traffic; consider Anti-DDoS Pro. Scrubbing ends by itself when "
    "the traffic falls back.": ("检查流量来源；可考虑使用 DDoS 高防。流量回落后清洗会自动结束。"),
    "Inbound traffic is above the black-hole threshold": "入方向流量超过黑洞阈值",
    "Above 5 Gbit/s the instance is black-holed: all public inbound traffic is dropped and the "
    "instance is unreachable from the internet.": (
        "超过 5 Gbit/s 时实例会被黑洞：所有公网入方向流量被丢弃，实例无法从公网访问。"
    ),
    "Wait for the black hole to be lifted or move the service behind Anti-DDoS Pro.": (
        "等待黑洞解除，或将服务迁移到 DDoS 高防之后。"
    ),
    # exposure
    "A service on a well-known port is reachable from the internet": "常用端口上的服务可从公网访问",
    "Databases, caches and remote administration reachable from the whole internet are "
    "scanned within minutes and are the usual way in.": (
        "对整个公网开放的数据库、缓存和远程管理服务几分钟内就会被扫描到，是最常见的入侵途径。"
    ),
    "Restrict the rule to the addresses that need the service (an office CIDR, another "
    "security group), or bind the service to 127.0.0.1 / the private address.": (
        "将规则限制为需要该服务的地址（办公网段、另一个安全组），或让服务只监听 127.0.0.1 / 私网地址。"
    ),
    "A service on an unrecognised port is reachable from the internet": (
        "未识别端口上的服务可从公网访问"
    ),
    "A listener nobody recognises that the internet can reach is often a forgotten debug "
    "server or a backdoor.": ("无人认识却可从公网访问的监听端口，往往是被遗忘的调试服务或后门。"),
    "Find the process (details: process, pid), stop it if unneeded, and narrow the rule that "
    "opens the port.": ("找到该进程（详情：进程、PID），不需要则停止，并收紧开放该端口的规则。"),
    "A security group rule opens ports to the internet where nothing listens": (
        "安全组规则向公网开放了无服务监听的端口"
    ),
    "Least privilege: a rule should open single ports that are in use. Open ports where "
    "nothing listens today let in whatever starts listening tomorrow.": (
        "最小权限：规则应只开放正在使用的端口。今天无人监听的开放端口，明天会放进任何开始监听的服务。"
    ),
    "Revoke the rule, or narrow its port range to the ports in use.": (
        "删除该规则，或把端口范围缩小到正在使用的端口。"
    ),
    "A high-risk port is open to 0.0.0.0/0": "高危端口对 0.0.0.0/0 开放",
    "The ECS security guide advises care with 0.0.0.0/0: database, cache, file-sharing and "
    "remote administration ports should only be open to known addresses.": (
        "ECS 安全指南建议慎用 0.0.0.0/0：数据库、缓存、文件共享和远程管理端口只应对已知地址开放。"
    ),
    "Replace 0.0.0.0/0 with the addresses that need access, or authorise a security group.": (
        "把 0.0.0.0/0 换成需要访问的地址，或授权给一个安全组。"
    ),
    # key pairs
    "authorized_keys holds a key that the bound key pair does not explain": (
        "authorized_keys 中有绑定密钥对之外的公钥"
    ),
    "With a key pair bound, the cloud expects its public key in authorized_keys. Another key "
    "lets someone else log in, whether added by a user or by an intruder for persistence.": (
        "绑定密钥对后，云端预期 authorized_keys 中只有它的公钥。多出的公钥让别人也能登录，"
        "无论是用户添加的，还是入侵者为持久化而添加的。"
    ),
    "Remove the key from authorized_keys, or if it is wanted import it as a key pair and bind "
    "that instead.": (
        "从 authorized_keys 中删除该公钥；如确需保留，请将其导入为密钥对并改为绑定它。"
    ),
    "The bound key pair is not in authorized_keys": "绑定的密钥对不在 authorized_keys 中",
    "The cloud says the instance uses this key pair, yet its public key is in no "
    "authorized_keys file: the host was changed behind the cloud's back, or the key pair was "
    "never installed (the instance was not restarted).": (
        "云端记录实例使用此密钥对，但任何 authorized_keys 文件中都没有它的公钥：主机被绕过云端修改过，"
        "或密钥对从未生效（实例未重启）。"
    ),
    "Restart the instance to apply the binding, or rebind the key pair in use.": (
        "重启实例使绑定生效，或重新绑定正在使用的密钥对。"
    ),
    "Password login is enabled although a key pair is bound": "已绑定密钥对，但密码登录仍开启",
    "Binding a key pair disables password login; sshd accepting passwords again reopens the "
    "instance to password guessing.": (
        "绑定密钥对会关闭密码登录；sshd 重新接受密码会让实例再次暴露于密码猜测。"
    ),
    "Set PasswordAuthentication no and KbdInteractiveAuthentication no in sshd_config and "
    "reload sshd (or reset the password in the console if passwords are wanted).": (
        "在 sshd_config 中设置 PasswordAuthentication no 和 KbdInteractiveAuthentication no 并重新加载 "
        "sshd（如确需密码登录，请在控制台重置密码）。"
    ),
    "A publickey login used a key other than the bound key pair": (
        "公钥登录使用了绑定密钥对以外的密钥"
    ),
    "Someone logged in with a key the cloud does not know about.": "有人用云端未知的密钥登录了。",
    "Find the key in authorized_keys by its fingerprint, remove it unless it is wanted, and "
    "review the session.": (
        "按指纹在 authorized_keys 中找到该公钥，如非必要则删除，并审查该会话。"
    ),
    "A key pair is bound to a Windows instance": "密钥对绑定到了 Windows 实例",
    "SSH key pairs are for Linux instances only; on Windows the binding protects nothing and "
    "the cloud's view of the instance is probably wrong.": (
        "SSH 密钥对只适用于 Linux 实例；在 Windows 上绑定不起任何保护作用，云端对该实例的记录很可能有误。"
    ),
    "Unbind the key pair and check the instance's OS in the model.": (
        "解绑密钥对，并检查模型中该实例的操作系统。"
    ),
    # logins
    "Brute-force login attempts": "暴力破解登录尝试",
    "Many failed logins from one source in a short time is password guessing.": (
        "同一来源在短时间内多次登录失败，说明有人在猜测密码。"
    ),
    "Block the source in the security group, disable password login (use a key pair), and "
    "consider fail2ban.": (
        "在安全组中封禁该来源，关闭密码登录（改用密钥对），并考虑使用 fail2ban。"
    ),
    "Successful login after repeated failures from the same source": ("同一来源多次失败后登录成功"),
    "A success right after many failures from one source is a guessed password.": (
        "同一来源多次失败后紧接着成功，说明密码已被猜中。"
    ),
    "Treat the account as compromised: change its password, review the session and the host, "
    "and block the source.": ("按账号已失陷处理：修改密码，审查会话和主机，并封禁该来源。"),
    "Login from a source never seen for this instance": "来自该实例从未见过的来源的登录",
    "A successful login from an address the instance never saw before.": (
        "来自该实例从未见过的地址的成功登录。"
    ),
    "Confirm with the account's owner; if unknown, treat it as a compromise.": (
        "与账号所有者确认；如无人知晓，按入侵处理。"
    ),
    "Login at an unusual hour": "非常用时段登录",
    "A successful login at an hour of day when this instance never saw one.": (
        "在该实例从未有过登录的时段发生了成功登录。"
    ),
    "Confirm with the account's owner.": "与账号所有者确认。",
    "Login with an account never used on this instance": "使用该实例从未用过的账号登录",
    "A successful login with an account that never logged in here before.": (
        "一个此前从未在此登录过的账号成功登录。"
    ),
    "Confirm the account is expected; remove or lock accounts nobody uses.": (
        "确认该账号是预期的；删除或锁定无人使用的账号。"
    ),
    "Successful login from a source the security groups would drop": (
        "安全组本应拒绝的来源登录成功"
    ),
    "The modelled security groups drop this source, yet it logged in: the model is out of date "
    "or something (another NIC, a tunnel, a port forward) bypasses it.": (
        "模型中的安全组会拒绝该来源，但它却登录成功：模型已过时，或有其他途径（另一块网卡、隧道、"
        "端口转发）绕过了安全组。"
    ),
    "Find how the connection got in (another NIC, a VPN, a forwarded port) and fix the model or "
    "close the path; review the session.": (
        "查明连接如何进入（另一块网卡、VPN、转发端口），修正模型或关闭该路径，并审查会话。"
    ),
    "SSH scanner or protocol abuse from one source": "来自同一来源的 SSH 扫描或协议滥用",
    "Many connections from one source that never tried to log in (no identification string, a "
    "garbage banner, protocol errors, failed negotiation, timeouts before authentication) is a "
    "scanner mapping the host's SSH service, not password guessing.": (
        "同一来源的大量连接从未尝试登录（没有标识字符串、乱码横幅、协议错误、协商失败、认证前超时），"
        "这是扫描器在探测主机的 SSH 服务，而不是在猜测密码。"
    ),
    "Restrict the SSH port in the security group to the addresses that need it; if it must stay "
    "open, rate-limit new connections (sshd MaxStartups, PerSourcePenalties).": (
        "在安全组中把 SSH 端口限制为需要访问的地址；如必须开放，请限制新连接的速率"
        "（sshd 的 MaxStartups、PerSourcePenalties）。"
    ),
    "One source fails to log in on many instances": "同一来源在多台实例上登录失败",
    "Failed logins from one source on several instances is a scan of the fleet.": (
        "同一来源在多台实例上登录失败，说明有人在扫描整个集群。"
    ),
    "Block the source in the security groups of the affected instances.": (
        "在受影响实例的安全组中封禁该来源。"
    ),
    # secrets
    "A plaintext AccessKey is stored on the host": "主机上存有明文 AccessKey",
    "An AccessKey in a file on an instance is one file read away from an attacker. The ECS "
    "security guide advises an instance RAM role instead, whose STS credentials come from the "
    "metadata service and rotate by themselves.": (
        "实例文件中的 AccessKey，攻击者读一个文件就能拿到。ECS 安全指南建议改用实例 RAM 角色，"
        "其 STS 凭证来自元数据服务并自动轮换。"
    ),
    "Delete the key from the file, disable and rotate it in RAM, and grant the instance a RAM "
    "role instead.": ("从文件中删除该密钥，在 RAM 中禁用并轮换它，改为给实例授予 RAM 角色。"),
    # vulnerabilities
    "An installed package has a known vulnerability": "已安装的软件包存在已知漏洞",
    "The installed version is in an advisory's affected range.": "已安装的版本在安全公告的受影响范围内。",
    "Upgrade the package to the fixed version (apt-get / dnf upgrade) and restart what uses it.": (
        "将软件包升级到修复版本（apt-get / dnf upgrade），并重启使用它的服务。"
    ),
    # ram
    "A RAM user has both a console password and an AccessKey": (
        "RAM 用户同时拥有控制台密码和 AccessKey"
    ),
    "Give a RAM user one access method, console password or AccessKey: one of the two is "
    "enough, and a user who leaves the organisation could otherwise keep using the AccessKey "
    "(为了保障账号安全，建议仅为RAM用户选择一种登录方式).": (
        "为了保障账号安全，建议仅为 RAM 用户选择一种登录方式（控制台密码或 AccessKey）："
        "二者有一即可，否则离开组织的用户仍可能继续使用 AccessKey。"
    ),
    "Give the user one access method: delete its login profile (people) or its AccessKeys "
    "(programs).": ("只保留一种访问方式：删除其登录配置（给人用）或其 AccessKey（给程序用）。"),
}


# An alert's message in Chinese, from the finding's details (the data the check stored beside
# its English sentence); the English message stays when a check has no template here or its
# details lack a field the template names (a check changed since).
ZH_MESSAGES = {
    "login.brute_force": (
        "来自 {source_ip} 的登录失败 {failures_in_window} 次（近期事件中共 {failures_total} 次），"
        "尝试的用户：{users}。"
    ),
    "login.brute_force_success": (
        "{user} 在来自 {source_ip} 的 {failures_before} 次失败尝试之后登录成功（{method}）。"
    ),
    "login.new_source": "{user} 从 {source_ip} 登录，该实例从未见过此来源。",
    "login.unusual_hour": "{user} 从 {source_ip} 在 {hour}:xx（{timezone}）登录，此前该时段从无登录。",
    "login.unusual_account": "{user} 从 {source_ip} 登录；该账号此前从未在此登录。",
    "login.source_blocked_by_security_group": (
        "{user} 从 {source_ip} 经 tcp/{port} 登录成功，而模型中的安全组会拒绝该来源（{reason}）。"
    ),
    "login.source_failing_across_fleet": "{source_ip} 在多台实例上登录失败：{instances}。",
    "keypair.unexplained_authorized_key": (
        "{path}（{user}）第 {line_number} 行有 {key_type} 公钥 {subject}，它不是绑定的密钥对。"
    ),
    "keypair.bound_key_missing": "密钥对 {key_pair}（{fingerprint_md5}）已绑定，但不在 {files} 中。",
    "keypair.password_login_enabled": (
        "已绑定密钥对 {key_pair}，但 sshd 仍接受密码（{enabled} 为 yes，来自 {source}）。"
    ),
    "keypair.login_with_foreign_key": (
        "{user} 从 {source_ip} 使用密钥 {key_fingerprint} 登录，不是绑定的密钥对 {bound}。"
    ),
    "keypair.bound_to_windows": "已绑定密钥对 {key_pairs}，但 {windows_per} 显示该实例运行 Windows。",
    "secrets.plaintext_access_key": "AccessKey {access_key_id} 以明文存放在 {locations}。",
    "ram.user_password_and_access_key": (
        "RAM 用户 {user_name} 同时拥有控制台密码和有效的 AccessKey：{access_key_ids}。"
    ),
    "ddos.scrubbing": "入方向流量超过实例规格 {instance_type} 的清洗阈值：正在清洗。",
    "ddos.black_hole": "入方向流量超过黑洞阈值：实例已被黑洞。",
    "exposure.internet_listener_common_port": "{subject} 上的 {service} 可从公网访问。",
    "exposure.internet_listener_unrecognised_port": "{subject} 上的未识别服务可从公网访问。",
    "exposure.rule_opens_unused_ports": (
        "规则 {subject} 向公网开放了 {unused_port_count} 个无服务监听的端口。"
    ),
    "exposure.high_risk_port_open_to_world": "规则 {subject} 向 0.0.0.0/0 开放了 {services}。",
}


def _text(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return "、".join(_text(v) for v in value) or "—"
    if isinstance(value, dict):
        raise ValueError("a structured value has no sentence form")
    return str(value)


def zh_message(check_id: str, subject: str, details: dict | None, english: str) -> str:
    template = ZH_MESSAGES.get(check_id)
    if template is None:
        return english
    try:
        values = {key: _text(value) for key, value in (details or {}).items()}
        return template.format_map({**values, "subject": subject})
    except (KeyError, ValueError, IndexError):
        return english
