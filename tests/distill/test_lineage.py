"""The student's lineage record, the lineage walk from an edge, and build --require-lineage, with the
session's trained student (SmolLM2 + LoRA, taught by knowledge the bundled SmolLM2 generated through
llama.cpp)."""

import json
import shutil

import pytest
from helpers.student import RULES_ONLY, generate_config, linked_copy
from typer.testing import CliRunner

from intentkg.cli.main import cli
from intentkg.distill.lineage import family_warning, record_student
from intentkg.errors import IntentkgError
from intentkg.filter import FilterConfig, run_filter
from intentkg.generate.stage import run_generate
from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig
from intentkg.llm import bundled
from intentkg.llm.model_lineage import family_of, model_hash
from intentkg.workspace import Workspace


def test_the_record_names_teacher_base_data_and_the_shared_family(student):
    ws = student["ws"]
    record = json.loads((ws.stage_dir("distill") / "intentkg_lineage.json").read_text())
    generator = next(m for m in ws.committed("generate").models if m.role == "generator")
    assert record["teacher"]["sha256"] == generator.sha256 == model_hash(bundled.smollm2_path())
    assert record["base"]["id"] == bundled.SMOLLM2 and record["base"]["family"] == "smollm2"
    assert record["model"]["artifacts"]["student.gguf"] == model_hash(student["gguf"])
    assert record["model"]["artifacts"]["student.gguf"] != generator.sha256  # another file than the teacher
    data_input = next(i for i in ws.committed("distill").inputs if i.name == "distill-data")
    assert record["data"] == {"stage": "distill-data", "sha256": data_input.sha256,
                              "counts": ws.committed("distill-data").counts}
    assert any("share the base family 'smollm2'" in w for w in record["warnings"])
    manifest = ws.committed("distill")
    assert manifest.extra["lineage"]["warnings"] == record["warnings"]  # stored in the manifest too
    assert "intentkg_lineage.json" in manifest.outputs  # committed through the stage, hash recorded


def test_families_come_from_the_files_own_metadata(tmp_path):
    gemma, smol = family_of(bundled.gemma_path()), family_of(bundled.smollm2_path())
    assert (gemma.family, gemma.architecture) == ("gemma3", "gemma3")
    assert (smol.family, smol.architecture) == ("smollm2", "llama")
    (tmp_path / "config.json").write_text('{"model_type": "gemma3_text"}')
    assert family_of(tmp_path).family == "gemma3"  # an HF folder of the same family as the Gemma GGUF
    teacher, base = {"id": "gemma3-270m", **gemma.as_dict()}, {"id": "smollm2", **smol.as_dict()}
    assert family_warning(teacher, base) is None
    assert "gemma3" in family_warning(teacher, {"id": "hf", **family_of(tmp_path).as_dict()})


@pytest.fixture(scope="module")
def student_generated(student, tmp_path_factory):
    """A workspace of the student's behaviours whose knowledge the trained student generated (its file in
    place, its lineage record beside it), filtered by the rules."""
    root = tmp_path_factory.mktemp("student-generated") / "ws"
    shutil.copytree(student["ws"].stage_dir("ingest"), root / "ingest")
    run_generate(generate_config(str(student["gguf"]), limit=3), root)
    run_filter(root, FilterConfig.model_validate(RULES_ONLY), quiet=True)
    return root, student["gguf"]


def test_lineage_walks_from_a_student_edge_to_its_base_and_teacher(student_generated):
    root, student = student_generated
    run_build(root, BuildConfig(hierarchy=False), require_lineage=True)  # the student's lineage is known
    ws = Workspace(root)
    generators = ws.committed("kg").extra["generators"]
    assert [g["model_hash"] for g in generators] == [model_hash(student)]
    assert generators[0]["origin"] == "distilled"
    import duckdb

    edge = duckdb.connect().execute(f"SELECT edge_id FROM read_parquet('{root}/kg/edges/**/*.parquet', hive_partitioning=1) "
                      "WHERE relation = 'used_for_function' LIMIT 1").fetchone()
    assert edge is not None, "the student's knowledge gave no edge"
    result = CliRunner().invoke(cli, ["lineage", str(root), edge[0]], terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "generator" in out and "origin distilled" in out
    assert f"base {bundled.SMOLLM2}" in out and "origin bundled" in out
    assert "teacher smollm2-135m-instruct" in out
    assert "lineage warning" in out and "share the base family" in out


def test_build_refuses_a_generator_without_lineage_until_it_is_declared(student, tmp_path):
    copy = tmp_path / "ws"
    shutil.copytree(student["ws"].stage_dir("ingest"), copy / "ingest")
    gguf = linked_copy(student["gguf"].parent, tmp_path / "model") / "student.gguf"
    (gguf.parent / "intentkg_lineage.json").unlink()  # the same student, without its record
    run_generate(generate_config(str(gguf), limit=2), copy)
    run_filter(copy, FilterConfig.model_validate(RULES_ONLY), quiet=True)
    with pytest.raises(IntentkgError, match="lineage of 1 generator"):
        run_build(copy, BuildConfig(hierarchy=False), force=True, require_lineage=True)
    result = CliRunner().invoke(cli, ["lineage", "--declare", str(gguf), "--origin", "hf:example/model@v1"])
    assert result.exit_code == 0, result.output
    run_build(copy, BuildConfig(hierarchy=False), force=True, require_lineage=True)
    assert Workspace(copy).committed("kg").extra["generators"][0]["origin"] == "declared"


def test_a_record_left_beside_replaced_weights_does_not_count(student, tmp_path):
    from intentkg.llm.model_lineage import find_record

    gguf = tmp_path / "student.gguf"
    shutil.copyfile(student["gguf"], gguf)  # a real copy: its bytes change below
    shutil.copyfile(student["gguf"].parent / "intentkg_lineage.json", tmp_path / "intentkg_lineage.json")
    assert find_record(model_hash(gguf), gguf) is not None
    with open(gguf, "ab") as handle:  # the weights change; the record names the old hash
        handle.write(b"\0" * 64)
    assert find_record(model_hash(gguf), gguf) is None


def test_record_student_needs_a_trained_student(student):
    with pytest.raises(IntentkgError, match="train the student first"):
        record_student(student["ws"], "distill-missing")


def test_a_missing_or_stale_record_is_written_again_and_a_current_one_kept(student, tmp_path):
    from intentkg.distill.lineage import ensure_recorded

    root = linked_copy(student["ws"].root, tmp_path / "ws")
    ws = Workspace(root)
    record_file = root / "distill" / "intentkg_lineage.json"
    before = record_file.read_text()
    assert ensure_recorded(ws)["recorded_at"] == json.loads(before)["recorded_at"]  # current: kept as it is
    assert record_file.read_text() == before
    record_file.unlink()
    again = ensure_recorded(ws)
    assert again["base"]["id"] == bundled.SMOLLM2 and record_file.is_file()
    assert ws.changed_outputs(ws.committed("distill")) == []  # written through the stage's commit
