"""The generated modules in shared/proto are exactly what proto/ generates."""

from pathlib import Path

from palisade.shared import protogen


def test_regenerating_from_proto_gives_no_diff(tmp_path):
    written = protogen.generate(tmp_path)
    assert written, "protoc generated nothing"
    committed = Path(protogen.DEFAULT_OUT)
    for path in written:
        assert (committed / path.name).read_text() == path.read_text(), (
            f"shared/proto/{path.name} is stale: run `make proto` and commit the result"
        )
    generated = {p.name for p in written} | {"__init__.py"}
    on_disk = {p.name for p in committed.iterdir() if p.suffix in (".py", ".pyi")}
    assert on_disk == generated, f"stray or missing generated files: {on_disk ^ generated}"
