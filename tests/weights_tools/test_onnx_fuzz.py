"""A few hundred mutated .onnx files (benchmarks/onnx_fuzz.py, which runs 2,000) through read_onnx: only the
documented errors, and memory within twice the bytes read (plus a fixed allowance of Python objects)."""
from benchmarks.onnx_fuzz import DOCUMENTED, parse, run, serialize, sources
from weights_tools.onnx.schema import MODEL


def test_the_fuzzer_rewrites_every_source_byte_for_byte_when_nothing_changes():
    for name, model, fields, _, _ in sources():
        assert serialize(fields, {}) == model, name


def test_mutated_onnx_files_raise_only_documented_errors_within_the_memory_budget():
    outcomes, bad_kinds, _, _, over = run(250, seed=3)
    assert not bad_kinds, bad_kinds
    assert set(outcomes) <= DOCUMENTED | {"read"} and outcomes["read"] and outcomes["OnnxModelError"]
    assert over == 0


def test_parse_keeps_sub_messages_as_fields():
    fields = parse(sources()[0][1], MODEL)
    graph = [value for field, _, value in fields if field == 7][0]
    assert any(field == 1 and isinstance(value, list) for field, _, value in graph)  # nodes, parsed
