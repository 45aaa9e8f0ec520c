"""Read a Caffe net in protobuf *text* format (deploy.prototxt, train_val.prototxt).

    net, layers, generation = parse_prototxt("deploy.prototxt")   # or the text itself

The result has exactly the structure that caffemodel.parse_layers gives for a binary
.caffemodel: the same field names and kinds from weights_tools.schema ("ints" as lists,
"floats" as float32 arrays, sub-messages as dicts, repeated messages as lists, enums
as their numbers, V1 layer types as the strings of schema.V1_TYPES). So a deploy net
and the weights of a .caffemodel can be matched layer by layer, as Caffe does.

Why our own reader rather than Google's protobuf with a compiled caffe.proto: no
dependency (weights_tools reads binary files without one too), one schema table for
both formats (a field added to schema.py is read from both), and one error type —
every problem raises CaffeModelError naming the line and column.

The text format (protobuf's TextFormat, as Caffe writes and reads it; literals in
weights_tools.textformat):

    # a comment to the end of the line
    name: "VGG"                                   field: value
    layer { name: 'conv1' ... }                   a message
    input_param: { shape { dim: [1, 3, 224, 224] } }    ':' before '{' optional; [a, b] lists
    dim: 1 dim: 3                                 repeated fields repeat
    pool: MAX                                     enum identifiers (schema.ENUMS) or their numbers

A field the schema does not name is skipped, whatever its value (balanced braces).
Setting a singular field twice is an error, as in protobuf's parser (Caffe refuses
such files). Limits against hostile input: nesting deeper than MAX_DEPTH, literals
longer than textformat.MAX_NUMBER_CHARS or outside the field's range, more than
wire.MAX_INTS values in an "ints" field.
"""
import os

import numpy as np

from minidream.errors import CaffeModelError
from weights_tools import schema
from weights_tools.textformat import BOOLS, Tokens, integer, real, unquote
from weights_tools.wire import MAX_INTS

MAX_DEPTH = 32  # caffe.proto nests 4 deep; a deeper file is broken or hostile

_CLOSE = {"{": "}", "<": ">"}
# schema.py names V1LayerParameter's nested V0 message "v0_layer"; caffe.proto calls it "layer".
_TEXT_NAME = {"v0_layer": "layer"}
_MESSAGE_NAME = {id(message): name for name, message in schema.MESSAGES.items()}


class _Parser:
    """Recursive descent over the tokens, one method per grammar rule, guided by the schema."""

    def __init__(self, text):
        self.tokens = Tokens(text)

    def message(self, message_schema, close, depth):
        """Fields up to ``close`` ('}', '>' or 'end'); returns the decoded dict."""
        if depth > MAX_DEPTH:
            raise self.tokens.error(f"messages nested more than {MAX_DEPTH} deep")
        fields = {_TEXT_NAME.get(name, name): (name, kind) for name, kind in message_schema.values()}
        message_name = _MESSAGE_NAME.get(id(message_schema), "")
        out, seen = {}, set()
        while True:
            kind_, text, pos = self.tokens.peek()
            if (kind_ == "end" and close == "end") or (kind_ == "punct" and text == close):
                self.tokens.take()
                return out
            if kind_ != "ident":
                expected = "a field name" + ("" if close == "end" else f" or {close!r}")
                raise self.tokens.error(f"expected {expected}, found {text!r}")
            self.tokens.take()
            if text not in fields:
                self.skip_value(depth)
            else:
                name, kind = fields[text]
                singular = not (isinstance(kind, list) or kind in ("ints", "floats", "doubles", "strings", "skip"))
                if singular and name in seen:
                    raise self.tokens.error(f"field {text!r} is set twice; it holds one value", pos)
                seen.add(name)
                self.field(out, name, kind, (message_name, text), depth)
            if not self.tokens.accept(";"):  # fields may end with ';' or ','
                self.tokens.accept(",")

    def field(self, out, name, kind, enum_key, depth):
        """One field's value (the name is read) into ``out``."""
        tokens = self.tokens
        if isinstance(kind, (dict, list)):
            tokens.accept(":")
            if tokens.accept("["):
                if not isinstance(kind, list):
                    raise tokens.error(f"field {name!r} is not repeated; a [list] cannot set it")
                while not tokens.accept("]"):
                    out.setdefault(name, []).append(self.sub_message(kind[0], depth))
                    if not tokens.accept(","):
                        tokens.expect("]", "to end the list")
                        break
                return
            value = self.sub_message(kind if isinstance(kind, dict) else kind[0], depth)
            if isinstance(kind, list):
                out.setdefault(name, []).append(value)
            else:
                out[name] = value
            return
        tokens.expect(":", f"after {name!r}")
        repeated = kind in ("ints", "floats", "doubles", "strings", "skip")
        values = []
        if tokens.accept("["):
            if not repeated:
                raise tokens.error(f"field {name!r} is not repeated; a [list] cannot set it")
            while not tokens.accept("]"):
                values.append(self.scalar(kind, enum_key))
                if not tokens.accept(","):
                    tokens.expect("]", "to end the list")
                    break
        else:
            values.append(self.scalar(kind, enum_key))
        if kind == "skip":
            return
        if not repeated:
            out[name] = values[0]
        elif kind in ("floats", "doubles"):
            old = out.get(name, np.zeros(0, np.float32 if kind == "floats" else np.float64))
            out[name] = np.concatenate([old, np.array(values, old.dtype)])
        else:
            out.setdefault(name, []).extend(values)
            if kind == "ints" and len(out[name]) > MAX_INTS:
                raise tokens.error(f"field {name!r} holds more than {MAX_INTS} integers")

    def sub_message(self, message_schema, depth):
        """A {...} or <...> message value."""
        tokens = self.tokens
        opener = tokens.peek()[1] if tokens.peek()[0] == "punct" else ""
        if opener not in _CLOSE:
            raise tokens.error(f"expected '{{' to open a message, found {tokens.peek()[1]!r}")
        tokens.take()
        return self.message(message_schema, _CLOSE[opener], depth + 1)

    def scalar(self, kind, enum_key):
        """One scalar value of ``kind``; enum identifiers are looked up in schema.ENUMS[enum_key]."""
        tokens = self.tokens
        negative = tokens.accept("-")
        token = tokens.take()
        tok_kind, text, pos = token
        if kind in ("string", "strings"):
            if tok_kind != "string" or negative:
                raise tokens.error(f"expected a quoted string, found {text!r}", pos)
            parts = [unquote(tokens, pos, text)]
            while tokens.peek()[0] == "string":  # "abc" "def" is "abcdef"
                _, more, more_pos = tokens.take()
                parts.append(unquote(tokens, more_pos, more))
            return "".join(parts)
        if kind in ("float", "floats", "double", "doubles", "skip"):
            return real(tokens, token, negative, "double" if kind == "skip" else kind)
        if kind == "bool":
            if negative or text not in BOOLS or tok_kind == "string":
                raise tokens.error(f"expected true or false, found {text!r}", pos)
            return BOOLS[text]
        if tok_kind == "ident":
            names = schema.ENUMS.get(enum_key)
            if names is None or text not in names or negative:
                known = f" (one of {', '.join(names)})" if names else ""
                raise tokens.error(f"{text!r} is not a value of {enum_key[1]!r}{known}", pos)
            return names[text]
        return integer(tokens, token, negative)

    def skip_value(self, depth):
        """Step over an unknown field's value: a scalar, a [list] or a {message}."""
        tokens = self.tokens
        colon = tokens.accept(":")
        kind_, text, pos = tokens.peek()
        if kind_ == "punct" and text in "{<[":
            stack = []
            while True:
                kind_, text, pos = tokens.take()
                if kind_ == "end":
                    raise tokens.error(f"unbalanced {stack[-1]!r}: the file ends inside it", pos)
                if kind_ == "punct" and text in "{<[":
                    stack.append(text)
                    if depth + len(stack) > MAX_DEPTH:
                        raise tokens.error(f"messages nested more than {MAX_DEPTH} deep", pos)
                elif kind_ == "punct" and text in "}>]":
                    if {"{": "}", "<": ">", "[": "]"}[stack.pop()] != text:
                        raise tokens.error(f"mismatched {text!r}", pos)
                    if not stack:
                        return
        if not colon:
            raise tokens.error(f"expected ':' or '{{' after a field name, found {text!r}")
        tokens.accept("-")
        kind_, text, pos = tokens.take()
        if kind_ not in ("number", "ident", "string"):
            raise tokens.error(f"expected a value, found {text!r}", pos)
        while kind_ == "string" and tokens.peek()[0] == "string":
            tokens.take()


def net_layers(net, upgrade_tool="upgrade_net_proto_text"):
    """(layers, generation) of a decoded NetParameter, binary or text: the current `layer` messages, or the V1
    `layers` with their enum types as the current type strings. upgrade_tool: Caffe's tool named for V0 files."""
    v1, current = net.get("layers", []), net.get("layer", [])
    if v1 and current:
        raise CaffeModelError("corrupt net: it mixes V1 `layers` and current `layer` messages")
    if not v1 and not current:
        raise CaffeModelError("no layers found: this is not a Caffe NetParameter (.caffemodel or .prototxt), or "
                              "it is empty or damaged")
    if current:
        for layer in current:
            layer.setdefault("type", "")
        return current, "current"
    for layer in v1:
        if "v0_layer" in layer and "type" not in layer:
            raise CaffeModelError(
                f"layer {layer.get('name', '?')!r} is in Caffe's V0 format (pre-2014); upgrade the file "
                f"with Caffe's {upgrade_tool} tool, then convert it"
            )
        code = layer.get("type", 0)
        layer["type"] = schema.V1_TYPES.get(code, f"V1 type #{code}")
    return v1, "V1"


def _read_text(source):
    path = None
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source and (
            source.endswith((".prototxt", ".protxt")) or os.path.isfile(source))):
        path = os.fspath(source)
    if path is not None:
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError as exc:
            raise CaffeModelError(f"cannot read {path}: {exc.strerror or exc}") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise CaffeModelError(f"prototxt line {line}, column {column}: not UTF-8 text "
                                  "(is this a binary .caffemodel?)") from None
    return source


def parse_prototxt(source):
    """Parse a text-format NetParameter; returns (net, layers, generation).

    source: a path (os.PathLike, or a one-line str ending in .prototxt/.protxt or naming
    an existing file), else the text itself (str or UTF-8 bytes).

    Same structure as caffemodel.parse_layers: net is the decoded NetParameter dict,
    layers its ``layer`` (generation "current") or ``layers`` (generation "V1") list.
    Raises CaffeModelError, naming line and column, for anything that is not a net.
    """
    net = _Parser(_read_text(source)).message(schema.NET, "end", 0)
    layers, generation = net_layers(net)
    return net, layers, generation
