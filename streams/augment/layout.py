"""Re-lay a snippet out without changing what it means: indentation, quotes, brace lines.

Python lines are re-indented by block depth: a statement's line gets the base indentation plus
one unit per enclosing block, a continuation line moves with the statement above it, a comment
line with the statement below. Lines inside a string stay as they are, except a docstring's: they
move with it, changing only whitespace its readers strip (unless a line ends in a backslash, which
joins that whitespace into the text). A Python indentation that is not one unit per block is left
alone, as scaling it could change the blocks. Other languages map each indentation level to the
new unit, keep any alignment remainder, and convert the first line's indentation too when it is
whole levels. Plain one-line Python strings switch quotes where their text holds no quote or
backslash. Braces move between the end of a header line and a line of their own only for bodies
(functions, classes, control statements), never in Go, where a line break before ``{`` ends the
statement, nor for a block standing as a statement of its own (after ``return``, it would be
read as an object). The seed picks which of the changes that apply are made (at least one).
"""

from bisect import bisect_right
from random import Random

from tree_sitter import Node

from streams.augment.tree import Captures, apply_edits, captures, leading, line_starts
from streams.snippets import ParsedSnippet, lost_indentation

_PYTHON_LAYOUT = """
(string) @string
(comment) @comment
(block) @block
(block (_) @statement)
(module (_) @statement)
(decorated_definition definition: (_) @statement)
[(elif_clause) (else_clause) (except_clause) (finally_clause) (case_clause) (decorator)] @statement
"""
_JS_LAYOUT = """
[(string) (template_string)] @string
(comment) @comment
[(statement_block) (class_body) (switch_body)] @body
"""
LAYOUT_QUERIES = {
    "python": _PYTHON_LAYOUT,
    "javascript": _JS_LAYOUT,
    "typescript": _JS_LAYOUT,
    "tsx": _JS_LAYOUT,
    "go": "[(raw_string_literal) (interpreted_string_literal)] @string (comment) @comment",
    "java": """
(string_literal) @string
[(line_comment) (block_comment)] @comment
[(block) (class_body) (constructor_body) (interface_body) (enum_body) (switch_block)] @body
""",
    "rust": """
[(string_literal) (raw_string_literal)] @string
[(line_comment) (block_comment)] @comment
[(block) (declaration_list) (field_declaration_list) (enum_variant_list) (match_block)] @body
""",
}
_UNITS = (b"  ", b"    ", b"\t")
_BLOCK_HOLDERS = frozenset(  # a body in one of these is a block statement of its own
    {"program", "source_file", "statement_block", "block", "statement_list", "class_body"}
    | {"expression_statement", "labeled_statement", "switch_case", "switch_default"}
    | {"switch_block_statement_group", "switch_rule"}
)


def relayout(parsed: ParsedSnippet, start_column: int, seed: int) -> bytes | None:
    """The snippet's code laid out anew; None if no layout change applies."""
    rng = Random(seed)
    found = captures(parsed, LAYOUT_QUERIES)
    base = lost_indentation(parsed.code, start_column)
    frozen = _string_rows(parsed, found)
    swapped = _swap_quotes(parsed, found) if parsed.language == "python" else parsed.code
    rows = swapped.split(b"\n")
    indent = _python_indents if parsed.language == "python" else _brace_indents
    units = [unit for unit in _UNITS if parsed.language != "python" or unit != b"\t"]
    rng.shuffle(units)
    indents = indent(parsed, found, rows, base, frozen, units)
    down, up = _brace_moves(parsed, found, rows, frozen)
    applicable = {"quotes": swapped != parsed.code, "indent": indents is not None}
    applicable["braces"] = bool(down or up)
    options = [name for name, applies in applicable.items() if applies]
    if not options:
        return None
    chosen = rng.sample(options, rng.randint(1, len(options)))
    if "quotes" not in chosen:
        rows = parsed.code.split(b"\n")
    if "indent" not in chosen or indents is None:
        indents = [base] + [leading(row) for row in rows[1:]]
    if "braces" not in chosen:
        down, up = {}, set()
    return _render(rows, frozen, indents, down, up)


def _render(
    rows: list[bytes], frozen: set[int], indents: list[bytes], down: dict[int, int], up: set[int]
) -> bytes:
    """The rows with their new indentation (row 0's is outside the snippet) and brace moves."""
    out: list[bytes] = []
    for row, line in enumerate(rows):
        text = line.lstrip(b" \t")
        if row in frozen:
            out.append(line)
        elif row in down:  # `header {` becomes `header` and `{` on a line of its own
            out.append(((indents[row] if row else b"") + text).rstrip()[:-1].rstrip())
            out.append(indents[down[row]] + b"{")
        elif row in up:  # a `{` alone on its line joins the header line above
            out[-1] = out[-1].rstrip() + b" " + text.rstrip()
        else:
            out.append((indents[row] if row else b"") + text)
    return b"\n".join(out)


def _swap_quotes(parsed: ParsedSnippet, found: Captures) -> bytes:
    """The code with its plain one-line Python strings in the minority quote.

    Plain: no prefix, not triple-quoted, no interpolation, no quote, backslash or newline inside,
    and not nested in an f-string (where Python before 3.12 forbids the outer quote).
    """
    plain = []
    for node in found.get("string", ()):
        parts = node.children
        inner = b"".join(part.text or b"" for part in parts[1:-1])
        if (
            len(parts) >= 2
            and parts[0].text in (b"'", b'"')
            and all(p.type in ("string_start", "string_content", "string_end") for p in parts)
            and not any(char in inner for char in (b"'", b'"', b"\\", b"\n"))
            and not _in_interpolation(node)
        ):
            plain.append((node, parts[0].text))
    singles = sum(quote == b"'" for _, quote in plain)
    source, target = (b"'", b'"') if singles * 2 > len(plain) else (b'"', b"'")
    edits = [
        (at, at + 1, target)
        for node, quote in plain
        if quote == source
        for at in (parsed.to_code(node.start_byte), parsed.to_code(node.end_byte) - 1)
    ]
    return apply_edits(parsed.code, edits)


def _in_interpolation(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type not in ("block", "module", "interpolation"):
        parent = parent.parent
    return parent is not None and parent.type == "interpolation"


def _string_rows(parsed: ParsedSnippet, found: Captures) -> set[int]:
    """Rows that start inside a multi-line string, whose leading whitespace is the string's."""
    rows: set[int] = set()
    for node in found.get("string", ()):
        first, last = parsed.rows(node)
        if last > first and (b"\\\n" in (node.text or b"") or not _is_docstring(node)):
            rows.update(range(first + 1, last + 1))
    return rows


def _is_docstring(node: Node) -> bool:
    statement = node.parent
    block = statement.parent if statement is not None else None
    return (
        statement is not None
        and statement.type == "expression_statement"
        and block is not None
        and block.type == "block"
        and block.named_children[0] == statement
        and block.parent is not None
        and block.parent.type in ("function_definition", "class_definition")
    )


def _python_indents(
    parsed: ParsedSnippet,
    found: Captures,
    rows: list[bytes],
    base: bytes,
    frozen: set[int],
    units: list[bytes],
) -> list[bytes] | None:
    """New indentation per row by block depth, in the first of ``units`` that is not the old
    one; None if the old one is not one unit per level."""
    blocks = found.get("block", ())
    # How many blocks hold a byte: those starting at or before it less those ending by then.
    block_starts = sorted(n.start_byte for n in blocks)
    block_ends = sorted(n.end_byte for n in blocks)
    # An indented snippet parsed alone sits in its shell's `class _:` block; in its file's tree
    # the query sees no block around the snippet.
    shell_depth = 1 if base and parsed.node is None else 0
    starts = line_starts(parsed.code)
    depth_of: dict[int, int] = {}
    for node in found.get("statement", ()):
        row = parsed.rows(node)[0]
        at = parsed.to_code(node.start_byte)
        if row and node.type != "comment" and at - starts[row] == len(leading(rows[row])):
            byte = node.start_byte
            held = bisect_right(block_starts, byte) - bisect_right(block_ends, byte)
            depth_of[row] = held - shell_depth
    old_unit = next(
        (leading(rows[r])[len(base) :] for r in sorted(depth_of) if depth_of[r] == 1), b""
    )
    if not old_unit or old_unit.strip(b" \t") or len(set(old_unit)) > 1:
        return None
    unit = next((unit for unit in units if unit != old_unit), None)
    if unit is None:
        return None
    old = [base] + [leading(row) for row in rows[1:]]
    if any(old[row] != base + old_unit * depth for row, depth in depth_of.items()):
        return None  # an irregular indentation: scaling it could change the blocks
    comments = {parsed.rows(node)[0] for node in found.get("comment", ())}
    new = list(old)
    anchor = 0  # the last statement row: continuation lines move with it
    pending: list[int] = []  # comment rows waiting for the statement below them
    for row in range(1, len(rows)):
        if row in depth_of:
            new[row] = base + unit * depth_of[row]
            for waiting in pending:
                new[waiting] = _moved(old[waiting], old[row], new[row])
            pending, anchor = [], row
        elif row in frozen or not rows[row].strip():
            continue
        elif row in comments and rows[row].lstrip().startswith(b"#"):
            pending.append(row)
        else:
            new[row] = _moved(old[row], old[anchor], new[anchor])
    for waiting in pending:
        new[waiting] = _moved(old[waiting], old[anchor], new[anchor])
    return new


def _moved(indentation: bytes, old_anchor: bytes, new_anchor: bytes) -> bytes:
    """An indentation moved as its anchor's moved from ``old_anchor`` to ``new_anchor``."""
    if indentation.startswith(old_anchor):
        return new_anchor + indentation[len(old_anchor) :]
    return indentation


def _brace_indents(
    parsed: ParsedSnippet,
    found: Captures,
    rows: list[bytes],
    base: bytes,
    frozen: set[int],
    units: list[bytes],
) -> list[bytes] | None:
    """Each indentation level in the first of ``units`` that is not the old one, alignment
    kept; None if no unit is clear.

    The first line's indentation (``base``, outside the snippet) is converted too when it is
    whole levels, so the variant reads as if its file were re-indented (row 0 holds it).
    """
    inside_comment: set[int] = set()
    for node in found.get("comment", ()):
        first, last = parsed.rows(node)
        inside_comment.update(range(first + 1, last + 1))
    relative = {
        row: leading(line)[len(base) :]
        for row, line in enumerate(rows)
        if row and row not in frozen and line.strip() and leading(line).startswith(base)
    }
    old_unit = _indent_unit([rel for row, rel in relative.items() if row not in inside_comment])
    unit = next((unit for unit in units if unit != old_unit), None)
    if old_unit is None or unit is None:
        return None
    levels, remainder = divmod(len(base), len(old_unit))
    head = unit * levels if not remainder and base == old_unit * levels else base
    new = [head] + [leading(line) for line in rows[1:]]
    for row, rel in relative.items():
        if old_unit == b"\t":
            level = len(rel) - len(rel.lstrip(b"\t"))
        elif b"\t" not in rel:
            level = len(rel) // len(old_unit)
        else:
            continue
        rest = rel[level * len(old_unit) :]
        if not rest.strip(b" "):
            new[row] = head + unit * level + rest
    return new


def _indent_unit(indents: list[bytes]) -> bytes | None:
    """The indentation step most lines are a multiple of: a tab, or 2, 3, 4 … spaces."""
    if any(rel.startswith(b"\t") for rel in indents):
        return b"\t"
    widths = [len(rel) for rel in indents if rel and not rel.strip(b" ")]
    for width in sorted(set(widths)):
        if sum(w % width == 0 for w in widths) >= 0.8 * len(widths):
            return b" " * width
    return None


def _brace_moves(
    parsed: ParsedSnippet, found: Captures, rows: list[bytes], frozen: set[int]
) -> tuple[dict[int, int], set[int]]:
    """The braces to move: ``{row: owner row}`` down to their own line, or rows to join up.

    The snippet's majority style is switched: ends of header lines go down, or lone braces go up
    to a header line that does not end in a comment.
    """
    unjoinable = frozen | {parsed.rows(node)[1] for node in found.get("comment", ())}
    starts = line_starts(parsed.code)
    down: dict[int, int] = {}
    up: set[int] = set()
    for body in found.get("body", ()):
        brace, owner = body.child(0), body.parent
        if brace is None or brace.type != "{" or owner is None or owner.type in _BLOCK_HOLDERS:
            continue  # a block statement of its own: after `return` a line break ends a statement
        row = parsed.rows(brace)[0]
        column = parsed.to_code(brace.start_byte) - starts[row]
        before, after = rows[row][:column], rows[row][column + 1 :]
        if row in frozen or after.strip():
            continue
        if before.strip():
            down[row] = parsed.rows(owner)[0]
        elif row and rows[row - 1].strip() and row - 1 not in unjoinable:
            up.add(row)
    if len(down) >= len(up):
        return down, set()
    return {}, up
