"""The installed commands as a user pipes them, and `palisade api --output FILE`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.palisade_cli import ok, run
from tests.helpers.security_group_cli import (
    R,
    authorize,
    content,
    group,
    instance,
    ip_of,
    new_vpc,
    permissions,
)

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def _pipe_into_head(command: list[str]) -> subprocess.CompletedProcess:
    """`COMMAND | head -c 1`: the reader goes away after one byte."""
    assert shutil.which("head")
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    writer = subprocess.run(command, stdout=reader.stdin, stderr=subprocess.PIPE, timeout=120)
    reader.stdin.close()
    reader.wait(timeout=10)
    return writer


def test_a_closed_pipe_ends_the_agent_command_quietly(tmp_path):
    """`palisade-agent parse-log --json auth.log | head`: far more output than a pipe holds,
    so the writes after `head` exits meet a closed pipe. No traceback; the shell's SIGPIPE
    status."""
    log = tmp_path / "auth.log"
    log.write_text(
        "".join(
            f"Mar  3 10:00:{i % 60:02d} host sshd[{1000 + i}]: Failed password for root from "
            f"203.0.113.{i % 250} port {2000 + i} ssh2\n"
            for i in range(5000)
        )
    )
    writer = _pipe_into_head([str(BIN / "palisade-agent"), "parse-log", "--json", str(log)])
    assert b"Traceback" not in writer.stderr and b"BrokenPipe" not in writer.stderr
    assert writer.returncode == 141


def test_a_closed_pipe_ends_the_auditor_command_quietly():
    """`palisade api --help | head`: the same, through `palisade`'s entry point."""
    writer = _pipe_into_head([str(BIN / "palisade"), "api", "--help"])
    assert b"Traceback" not in writer.stderr and b"BrokenPipe" not in writer.stderr
    assert writer.returncode in (0, 141)  # the list may fit in the pipe before head exits


def test_export_with_output_writes_the_file_its_import_takes_back(auditor, tmp_path):
    vpc = new_vpc(auditor)
    source = group(auditor, vpc, "SecurityGroupName=exported")
    authorize(auditor, source, "tcp", "443/443", "SourceCidrIp=0.0.0.0/0")
    authorize(auditor, source, "udp", "53/53", "DestCidrIp=8.8.8.8", egress=True)
    out = tmp_path / "rules.json"
    rc, text = run(
        auditor,
        "api",
        "--output",
        str(out),
        "ExportSecurityGroupRules",
        R,
        f"SecurityGroupId={source}",
    )
    assert rc == 0 and json.loads(text)["Output"] == str(out)
    assert isinstance(json.loads(out.read_text()), (list, dict))
    target = group(auditor, vpc, "SecurityGroupName=imported")
    done = ok(
        auditor, "ImportSecurityGroupRules", R, f"SecurityGroupId={target}", f"Document=@{out}"
    )
    assert done["AddedCount"] == 2 and done["FailedCount"] == 0
    assert content(permissions(auditor, target)) == content(permissions(auditor, source))


def test_output_into_a_missing_folder_is_a_clear_error(auditor, tmp_path):
    vpc = new_vpc(auditor)
    source = group(auditor, vpc)
    target = tmp_path / "file-not-folder"
    target.write_text("")
    rc, text = run(
        auditor,
        "api",
        "--output",
        str(target / "rules.json"),
        "ExportSecurityGroupRules",
        R,
        f"SecurityGroupId={source}",
    )
    assert rc == 1 and json.loads(text)["Code"] == "OutputNotWritten"


def test_instances_lists_modelled_instances_no_agent_reports_for(auditor):
    vpc = new_vpc(auditor)
    gid = group(auditor, vpc)
    iid = instance(auditor, vpc, [gid], ip_of(auditor, vpc, 7))
    rc, text = run(auditor, "instances", "--json")
    assert rc == 0
    (row,) = [r for r in json.loads(text) if r["instance_id"] == iid]
    assert row["enrolled"] is False and row["listeners"] == []
    assert row["model"]["RegionId"] == "cn-hangzhou"
    assert row["model"]["SecurityGroupIds"]["SecurityGroupId"] == [gid]
    rc, text = run(auditor, "instances")
    assert rc == 0 and any(iid in line and "no agent" in line for line in text.splitlines())
    rc, text = run(auditor, "instance", "show", iid)
    assert rc == 0
    assert "modelled: cn-hangzhou" in text and ip_of(auditor, vpc, 7) in text
    assert "no agent has reported" in text
    rc, text = run(auditor, "instance", "show", "--json", iid)
    view = json.loads(text)
    assert view["model"]["InstanceId"] == iid and view["key_pair"]["status"] == "none"
    assert view["history"] == [] and view["logins"] == []
