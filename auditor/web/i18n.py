"""The dashboard's two languages: English and Simplified Chinese."""

from __future__ import annotations

LANGUAGES = {"en": "English", "zh": "简体中文"}

_ZH = {
    "Overview": "概览",
    "Instances": "实例",
    "Instance": "实例",
    "Security groups": "安全组",
    "Security group": "安全组",
    "Key pairs": "密钥对",
    "Alerts": "告警",
    "Notifications": "通知",
    "Inbox": "站内信",
    "Log in": "登录",
    "Log out": "退出",
    "User name": "用户名",
    "Password": "密码",
    "The user name or password is wrong.": "用户名或密码错误。",
    "Search": "搜索",
    "Hostname": "主机名",
    "OS": "操作系统",
    "State": "状态",
    "Security state": "安全状态",
    "Agent last seen": "客户端最近在线",
    "never": "从未",
    "Key pair": "密钥对",
    "Listeners": "监听端口",
    "Exposure": "暴露情况",
    "Deciding rule": "决定规则",
    "Authorized keys": "授权公钥",
    "Recent logins": "最近登录",
    "History": "变更历史",
    "Protocol": "协议",
    "Port": "端口",
    "Address": "地址",
    "Process": "进程",
    "User": "用户",
    "Source": "来源",
    "Result": "结果",
    "Time": "时间",
    "Method": "方式",
    "Rules": "规则",
    "Direction": "方向",
    "Policy": "授权策略",
    "Port range": "端口范围",
    "Authorization type": "授权类型",
    "Authorization object": "授权对象",
    "Description": "描述",
    "Priority": "优先级",
    "Created": "创建时间",
    "Add rule": "添加规则",
    "Delete": "删除",
    "Explain": "诊断",
    "From": "来源",
    "Verdict": "结论",
    "Name": "名称",
    "Fingerprint": "指纹",
    "Instances using it": "绑定实例",
    "Previous": "上一页",
    "Next": "下一页",
    "Page": "页",
    "of": "共",
    "No results.": "没有结果。",
    "reachable from the internet": "可从公网访问",
    "not reachable from the internet": "不可从公网访问",
    "Instances by security state": "按安全状态统计实例",
    "Open alerts by level": "按级别统计未处理告警",
    "safe": "安全",
    "at risk": "有风险",
    "no agent": "未安装客户端",
    "serious": "紧急",
    "suspicious": "可疑",
    "remind": "提醒",
    "You are not allowed to do this.": "您没有执行此操作的权限。",
    "Language": "语言",
    "ingress": "入方向",
    "egress": "出方向",
    "accept": "允许",
    "drop": "拒绝",
    "Modify": "修改",
    "Clone": "克隆",
    "Export": "导出",
    "Restore": "还原",
    "Import": "导入",
    "allowed": "允许",
    "dropped": "拒绝",
    "Save": "保存",
    "Mark handled": "标记为已处理",
    "Ignore": "忽略",
    "False positive": "误报",
    "Status": "状态",
    "Level": "级别",
    "Check": "检查项",
    "Count": "次数",
    "Last seen": "最近发生",
    "Failed logins, last 24 h": "最近24小时登录失败",
    "Alerts opened, last 24 h": "最近24小时新增告警",
    "Exposures by service": "按服务统计的暴露",
    "Top attacking sources": "攻击来源排行",
    "Service": "服务",
    "Silence": "静默",
}

# Keys that are not English text themselves (the shield's colours, the statuses as stored).
_EN = {
    "shield.green": "green: safe",
    "shield.orange": "orange: at risk",
    "shield.red": "red: serious alerts",
    "shield.grey": "grey: no agent",
    "false_positive": "false positive",
}
_ZH.update(
    {
        "shield.green": "绿色：安全",
        "shield.orange": "橙色：有风险",
        "shield.red": "红色：有紧急告警",
        "shield.grey": "灰色：无客户端",
        "pending": "待处理",
        "handling": "处理中",
        "handled": "已处理",
        "ignored": "已忽略",
        "false_positive": "误报",
        "expired": "已失效",
    }
)

CATALOGUES = {"en": _EN, "zh": _ZH}


def translator(lang: str):
    table = CATALOGUES.get(lang, {})

    def t(text: str) -> str:
        return table.get(text, text)

    return t


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    if accept_language and accept_language.lower().startswith("zh"):
        return "zh"
    return "en"
