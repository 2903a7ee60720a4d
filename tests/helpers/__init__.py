"""What the tests share, one module per kind of help:

system               CI or not, the installed console scripts, system binaries, root
polling              waiting for a condition
postgres             throwaway databases on the test PostgreSQL server
auditor_process      a real `palisade serve` process
agent_enrollment     `palisade-agent enroll` against such an auditor
palisade_cli         `palisade ...` called in-process against a real auditor
in_process_api       the API service in-process, with a settable clock and signed calls
security_group_cli   groups, VPCs, instances and rules made through `palisade api` in-process
alert_findings       findings, in the checks' shape, and the scope the alert tests use
keypair_auditor      a running auditor seeded with instances for the key-pair tests
sshd                 a real OpenSSH server and client on loopback
network_namespaces   network namespaces joined by veth, for a real kernel between hosts
probe_agent          the script run inside those namespaces that answers the probes
"""
