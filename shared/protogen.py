"""Regenerates the protobuf and gRPC modules in shared/proto from proto/.

    python -m palisade.shared.protogen [OUT_DIR]

protoc writes imports as `from palisade.v1 import x_pb2`; they are rewritten to
`palisade.shared.proto` so the modules live inside this package. A test runs
this into a temporary folder and fails on any difference from the committed files.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO / "proto"
DEFAULT_OUT = REPO / "shared" / "proto"
_IMPORT = re.compile(r"^from palisade\.v1 import ", re.MULTILINE)


def generate(out_dir: Path, proto_root: Path = PROTO_ROOT) -> list[Path]:
    from grpc_tools import protoc  # test/dev dependency only

    protos = sorted(proto_root.glob("palisade/v1/*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{proto_root}",
            f"-I{_well_known_include()}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
        ]
        rc = protoc.main(args + [str(p) for p in protos])
        if rc != 0:
            raise RuntimeError(f"protoc failed with exit code {rc}")
        written = []
        out_dir.mkdir(parents=True, exist_ok=True)
        for src in sorted((Path(tmp) / "palisade" / "v1").iterdir()):
            text = _IMPORT.sub("from palisade.shared.proto import ", src.read_text())
            dst = out_dir / src.name
            dst.write_text(text)
            written.append(dst)
    init = out_dir / "__init__.py"
    if not init.exists():
        init.write_text(
            '"""Generated from proto/palisade/v1 by palisade.shared.protogen; do not edit."""\n'
        )
    return written


def _well_known_include() -> str:
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    for path in generate(out):
        print(path)
