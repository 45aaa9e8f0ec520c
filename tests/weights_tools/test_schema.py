"""The schema tables agree with each other: what the text reader and the graph builder look up exists."""
from weights_tools import schema


def _names(message):
    return [name for name, _ in message.values()]


def test_every_message_has_unique_field_names_and_numbers():
    for title, message in schema.MESSAGES.items():
        names = _names(message)
        assert len(names) == len(set(names)), title
        assert all(isinstance(number, int) and number > 0 for number in message), title


def test_every_enum_table_belongs_to_an_int_field():
    for (title, field), values in schema.ENUMS.items():
        kinds = {name: kind for name, kind in schema.MESSAGES[title].values()}
        assert kinds.get(field) == "int", (title, field)
        assert len(set(values.values())) == len(values)


def test_v1_enum_names_and_types_agree():
    assert set(schema.V1_TYPE_NAMES.values()) - {0} == set(schema.V1_TYPES)
    assert schema.V1_TYPES[schema.V1_TYPE_NAMES["SOFTMAX_LOSS"]] == "SoftmaxWithLoss"
    assert schema.V1_TYPES[schema.V1_TYPE_NAMES["DECONVOLUTION"]] == "Deconvolution"


def test_param_fields_exist_in_both_generations_where_v1_has_them():
    current, v1 = set(_names(schema.LAYER)), set(_names(schema.V1_LAYER))
    for kind, field in schema.PARAM_FIELD.items():
        assert field in current, kind
    v1_types = set(schema.V1_TYPES.values())
    # V1 predates these messages; every V1 type with parameters has its field in V1LayerParameter.
    for kind in v1_types & set(schema.PARAM_FIELD) - {"Flatten"}:  # V1 FLATTEN had no parameters
        assert schema.PARAM_FIELD[kind] in v1, kind


def test_same_message_schema_in_both_generations():
    current = {name: kind for name, kind in schema.LAYER.values()}
    v1 = {name: kind for name, kind in schema.V1_LAYER.values()}
    for name in set(current) & set(v1) - {"param", "type"}:  # ParamSpec vs V1 names; string vs enum type
        assert current[name] is v1[name] or current[name] == v1[name], name
