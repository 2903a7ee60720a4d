"""`palisade sync`: read a cloud account through the official Alibaba Cloud SDKs (read-only)
and make the auditor's model hold it, through the same API actions `palisade apply` uses.

credentials.py  the SDKs' own credential providers: environment, aliyun CLI profile, the
                instance's RAM role through the metadata path
reader.py       the account as the SDKs answer it -> `CloudSnapshot` (a FleetSpec + RAM)
ram.py          RAM users, groups, policies, roles and attachments applied through the API
run.py          one sync round (dry run or for real), removals, the watch loop
"""
