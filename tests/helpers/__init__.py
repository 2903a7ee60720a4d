"""What the tests share, one module per kind of help:

system                 CI or not, the installed console scripts, system binaries, root
polling                waiting for a condition
postgres               throwaway databases on the test PostgreSQL server
auditor_process        a real `palisade serve` process; replicas of it on one database
agent_enrollment       `palisade-agent enroll` against such an auditor
metadata_agent         `palisade-agent run` serving the instance metadata endpoint
palisade_cli           `palisade ...` called in-process against a real auditor
stored_state           VPC instances, or a whole fleet file, put straight into a real auditor's
                       stored state
fleet_documents        a fleet file's document of N instances (groups, rules, key pairs)
in_process_api         the API service in-process, with a settable clock and signed calls;
                       replicas of it on the same database
in_process_ram         RAM users, a role and instances made through that in-process API
ram_policies           RAM policy documents as JSON text (policy(), the ECS trust policy)
ram_account_documents  a RAM account with every kind of entity, and its JSON round trip
ram_cli                RAM calls through `palisade api` in-process, as the owner or a user
security_group_cli     groups, VPCs, instances and rules made through `palisade api` in-process
alert_findings         findings, in the checks' shape, and the scope the alert tests use
keypair_auditor        a running auditor given test instances for the key-pair tests; snapshots
                       with a boot time, reported as an enrolled agent
sshd                   a real OpenSSH server and client on loopback
network_namespaces     network namespaces joined by veth, for a real kernel between hosts
probe_agent            the script run inside those namespaces that answers the probes
udp_flood              a bounded UDP flood from one namespace; the agent's traffic meter in another
fake_dns               name resolution answered by the test (monkeypatched getaddrinfo)
hook_receiver          a loopback HTTP server that records SMS-hook requests
raw_http               raw HTTP over a socket, for requests a client library would not send
official_sdks          tea-openapi Config and aliyun-python-sdk-core pointed at a real auditor
in_process_dashboard   the dashboard in-process with a logged-in session (get, post with CSRF)
browser                Debian's Chromium through Playwright, logging in, screenshots
documents              YAML/JSON-like values and mutated valid documents (schema property tests)
journal                real journald files (systemd-journal-remote) for `parse-log`
"""
