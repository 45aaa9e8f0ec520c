"""The lexical level of protobuf's text format: tokens and literals, with line and column.

Tokens are (kind, text, offset) with kind one of number, ident, string, punct, end;
whitespace and ``#`` comments are dropped. Literals follow protobuf's TextFormat:

    integers  123  -5  0x1F (hex)  017 (octal)            int64/uint64 range
    floats    1.5  .5  3.  1e-4  2.5E+3  1.5f  inf  -infinity  nan
    strings   "..." or '...', escapes \\n \\t \\r \\a \\b \\f \\v \\\\ \\' \\" \\? \\ooo \\xHH,
              the bytes decoded as UTF-8
    bools     true false True False t f 1 0

Every problem raises CaffeModelError naming line and column. weights_tools.prototxt
builds messages from these tokens.
"""
import re

import numpy as np

from minidream.errors import CaffeModelError

MAX_NUMBER_CHARS = 64  # longer literals are hostile; int() of 10**5 digits is slow

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n\f\v]+|\#[^\n]*)
  | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fF]?)(?![A-Za-z0-9_.]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<punct>[{}\[\]<>:,;\-])
""", re.VERBOSE)
_ESCAPE = re.compile(r"""\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))""", re.DOTALL)
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92, "'": 39, '"': 34,
                   "?": 63}
BOOLS = {"true": True, "True": True, "t": True, "1": True, "false": False, "False": False, "f": False, "0": False}
_SPECIAL_FLOATS = {"inf": float("inf"), "infinity": float("inf"), "nan": float("nan")}
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class Tokens:
    """The token stream of one text: (kind, text, offset) with line/column for messages."""

    def __init__(self, text):
        self.text, self.tokens, self.i = text, [], 0
        pos, end = 0, len(text)
        while pos < end:
            match = _TOKEN.match(text, pos)
            if match is None:
                what = "a malformed number" if text[pos] in "0123456789." else f"unexpected character {text[pos]!r}"
                raise self.error(what, pos)
            if match.lastgroup != "space":
                self.tokens.append((match.lastgroup, match.group(), pos))
            pos = match.end()
        self.tokens.append(("end", "end of file", end))

    def where(self, pos):
        line = self.text.count("\n", 0, pos) + 1
        return f"line {line}, column {pos - (self.text.rfind(chr(10), 0, pos) + 1) + 1}"

    def error(self, what, pos=None):
        pos = self.tokens[self.i][2] if pos is None else pos
        return CaffeModelError(f"prototxt {self.where(pos)}: {what}")

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        if token[0] != "end":
            self.i += 1
        return token

    def accept(self, text):
        if self.tokens[self.i][1] == text and self.tokens[self.i][0] == "punct":
            self.i += 1
            return True
        return False

    def expect(self, text, what):
        if not self.accept(text):
            raise self.error(f"expected {text!r} {what}, found {self.peek()[1]!r}")


def unquote(tokens, pos, quoted):
    """The bytes of a quoted string literal (escapes resolved), decoded as UTF-8."""
    def replace(match):
        octal, hexa, char = match.groups()
        if octal:
            return chr(int(octal, 8) & 0xFF)
        if hexa:
            return chr(int(hexa, 16))
        if char not in _SIMPLE_ESCAPES:
            raise tokens.error(f"unknown escape \\{char} in a string", pos)
        return chr(_SIMPLE_ESCAPES[char])
    # Non-ASCII characters pass through as their UTF-8 bytes; escapes give raw bytes.
    body = quoted[1:-1].encode("utf-8").decode("latin-1")
    raw = _ESCAPE.sub(replace, body).encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise tokens.error("string escapes do not form UTF-8 text", pos) from None


def integer(tokens, token, negative):
    """An int64/uint64 literal (decimal, 0x hex, 0 octal) as wire.decode would read it."""
    kind, text, pos = token
    hexadecimal = text.lower().startswith("0x")
    if kind != "number" or len(text) > MAX_NUMBER_CHARS or (not hexadecimal and any(c in text for c in ".eEfF")):
        raise tokens.error(f"expected an integer, found {text!r}", pos)
    if hexadecimal:
        value = int(text, 16)
    elif len(text) > 1 and text.startswith("0"):
        value = int(text, 8) if set(text) <= set("01234567") else None
        if value is None:
            raise tokens.error(f"invalid octal integer {text!r}", pos)
    else:
        value = int(text)
    value = -value if negative else value
    if not -(1 << 63) <= value < (1 << 64):
        raise tokens.error(f"integer {text!r} is outside the 64-bit range", pos)
    # uint64 values past 2**63 wrap as two's complement, exactly as wire.decode reads them.
    return value - (1 << 64) if value >= 1 << 63 else value


def real(tokens, token, negative, kind):
    """A float/double literal (or inf, infinity, nan); a "float" field's value is rounded to float32."""
    tok_kind, text, pos = token
    if tok_kind == "ident" and text.lower() in _SPECIAL_FLOATS:
        value = _SPECIAL_FLOATS[text.lower()]
    elif tok_kind == "number" and len(text) <= MAX_NUMBER_CHARS:
        value = float(int(text, 16)) if text.lower().startswith("0x") else float(text.rstrip("fF"))
        limit = _FLOAT32_MAX if kind in ("float", "floats") else float("inf")
        if value > limit or value == float("inf"):
            raise tokens.error(f"number {text!r} does not fit a {kind.rstrip('s')}", pos)
    else:
        raise tokens.error(f"expected a number, found {text!r}", pos)
    value = -value if negative else value
    # A float field holds a float32, as the binary reader's struct.unpack("<f") gives it.
    return float(np.float32(value)) if kind in ("float", "floats") else value
