"""The places a snippet has room for a typical bug, each with the edit and a sentence on it.

Places are found by each language's query on the syntax tree, so a string or comment is never
touched, and kept in source order so a seed's choice among them is reproducible. Types:
``off_by_one`` (``<`` ↔ ``<=``, ``>`` ↔ ``>=``, ``range(n)`` → ``range(n + 1)``, ``len(x) - 1`` →
``len(x)`` and its kin in other languages), ``wrong_operator`` (``+`` ↔ ``-``, ``*`` ↔ ``/``,
``==`` ↔ ``!=``, ``and`` ↔ ``or``, ``&&`` ↔ ``||``), ``missing_null_check`` (an early exit on
None, null, nil, a falsy or an empty value removed, where its lines are its own and, in Python,
its block keeps a statement), ``swapped_arguments`` (two adjacent positional arguments that
differ), ``wrong_return`` (True ↔ False, 0 ↔ 1, or in Python and JavaScript the value dropped)
and ``boolean_inversion`` (an if condition negated).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, get_args

from tree_sitter import Node

from streams.augment.tree import captures, in_source_order, text_of
from streams.snippets import ParsedSnippet

ErrorType = Literal[
    "off_by_one",
    "wrong_operator",
    "missing_null_check",
    "swapped_arguments",
    "wrong_return",
    "boolean_inversion",
]

# Each language's query finds the places a bug can go: @op (a binary operator token), @len_minus
# (`len(x) - 1` and its kin), @range_end (Python's range bound), @guard (an early-exit null
# check, with its), @args (an argument list), @returned (a returned value) and
# @condition (an if condition).

_PYTHON_ERRORS = """
(comparison_operator operators: _ @op)
(binary_operator operator: _ @op)
(boolean_operator operator: _ @op)
(binary_operator left: (call function: (identifier) @_f) operator: "-" right: (integer) @_one
  (#eq? @_f "len") (#eq? @_one "1")) @len_minus
(call function: (identifier) @_r arguments: (argument_list . (_) @range_end .) (#eq? @_r "range"))
(call function: (identifier) @_r arguments: (argument_list . (_) . (_) @range_end .)
  (#eq? @_r "range"))
(if_statement
  condition: [(comparison_operator (_) "is" (none))
              (not_operator argument: [(identifier) (attribute)])]
  consequence: (block . [(return_statement) (raise_statement) (continue_statement)
                         (break_statement)] .)
  !alternative) @guard
(call arguments: (argument_list) @args)
(return_statement (_) @returned)
(if_statement condition: (_) @condition)
(elif_clause condition: (_) @condition)
"""
_JS_ERRORS = """
(binary_expression operator: _ @op)
(binary_expression left: (member_expression property: (property_identifier) @_p) operator: "-"
  right: (number) @_one (#eq? @_p "length") (#eq? @_one "1")) @len_minus
(if_statement
  condition: (parenthesized_expression [
    (binary_expression operator: ["==" "==="] right: [(null) (undefined)])
    (unary_expression operator: "!" argument: [(identifier) (member_expression)])])
  consequence: [(return_statement) (throw_statement) (continue_statement) (break_statement)
    (statement_block . [(return_statement) (throw_statement) (continue_statement)
                        (break_statement)] .)]
  !alternative) @guard
(call_expression arguments: (arguments) @args)
(new_expression arguments: (arguments) @args)
(return_statement (_) @returned)
(if_statement condition: (parenthesized_expression (_) @condition))
"""
ERROR_QUERIES = {
    "python": _PYTHON_ERRORS,
    "javascript": _JS_ERRORS,
    "typescript": _JS_ERRORS,
    "tsx": _JS_ERRORS,
    "go": """
(binary_expression operator: _ @op)
(binary_expression left: (call_expression function: (identifier) @_f) operator: "-"
  right: (int_literal) @_one (#eq? @_f "len") (#eq? @_one "1")) @len_minus
(if_statement
  !initializer
  condition: (binary_expression operator: ["!=" "=="] right: (nil))
  consequence: (block (statement_list . (return_statement) .))
  !alternative) @guard
(call_expression arguments: (argument_list) @args)
(return_statement (expression_list) @returned)
(if_statement condition: (_) @condition)
""",
    "java": """
(binary_expression operator: _ @op)
(binary_expression
  left: [(field_access field: (identifier) @_p) (method_invocation name: (identifier) @_p)]
  operator: "-" right: (decimal_integer_literal) @_one
  (#any-of? @_p "length" "size") (#eq? @_one "1")) @len_minus
(if_statement
  condition: (parenthesized_expression
    (binary_expression operator: "==" right: (null_literal)))
  consequence: [(return_statement) (throw_statement) (continue_statement) (break_statement)
    (block . [(return_statement) (throw_statement) (continue_statement) (break_statement)] .)]
  !alternative) @guard
(method_invocation arguments: (argument_list) @args)
(object_creation_expression arguments: (argument_list) @args)
(return_statement (_) @returned)
(if_statement condition: (parenthesized_expression (_) @condition))
""",
    "rust": """
(binary_expression operator: _ @op)
(binary_expression
  left: (call_expression function: (field_expression field: (field_identifier) @_p))
  operator: "-" right: (integer_literal) @_one (#eq? @_p "len") (#eq? @_one "1")) @len_minus
(expression_statement
  (if_expression
    condition: (call_expression function: (field_expression field: (field_identifier) @_m))
    consequence: (block . [(return_expression) (expression_statement (return_expression))] .)
    !alternative)
  (#any-of? @_m "is_none" "is_empty" "is_err")) @guard
(call_expression arguments: (arguments) @args)
(return_expression (_) @returned)
(function_item body: (block (_) @returned .))
(if_expression condition: (_) @condition)
""",
}
_OFF_BY_ONE = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
_WRONG_OPERATOR = {"+": "-", "-": "+", "*": "/", "/": "*", "==": "!=", "!=": "=="}
_WRONG_OPERATOR |= {"===": "!==", "!==": "===", "and": "or", "or": "and", "&&": "||", "||": "&&"}
_FLIPPED = {"True": "False", "False": "True", "true": "false", "false": "true", "0": "1", "1": "0"}
_NOT_POSITIONAL = frozenset(
    {"keyword_argument", "list_splat", "dictionary_splat", "spread_element"}
    | {"comment", "line_comment", "block_comment"}
)
_ATOMS = frozenset(  # expressions a prefix operator applies to whole, without parentheses
    {"identifier", "integer", "true", "false", "parenthesized_expression"}
    | {"call", "attribute", "subscript", "call_expression", "member_expression"}
    | {"subscript_expression", "field_access", "method_invocation", "selector_expression"}
    | {"field_expression", "index_expression"}
)
_DROPPED_RETURN = {"python": "None", "javascript": "undefined"}
_DROPPED_RETURN |= {"typescript": "undefined", "tsx": "undefined"}


@dataclass(frozen=True, slots=True)
class Bug:
    """One place to put a bug: replace source bytes ``[start, end)`` and say what went wrong."""

    error_type: ErrorType
    start: int
    end: int
    replacement: bytes
    explanation: str  # without the "Line N: " it will start with


def find_bugs(parsed: ParsedSnippet) -> dict[ErrorType, list[Bug]]:
    """Every bug the snippet has room for, by type, in source order."""
    found = in_source_order(captures(parsed, ERROR_QUERIES))
    candidates = [
        *_operator_bugs(found.get("op", [])),
        *_bound_bugs(found.get("len_minus", []), found.get("range_end", [])),
        *(_removed_guard(parsed, node) for node in found.get("guard", ())),
        *(bug for node in found.get("args", ()) for bug in _swaps(parsed, node)),
        *(_wrong_return(node, parsed.language) for node in found.get("returned", ())),
        *(_inverted(node, parsed.language) for node in found.get("condition", ())),
    ]
    bugs: dict[ErrorType, list[Bug]] = {error_type: [] for error_type in get_args(ErrorType)}
    for bug in candidates:
        if bug is not None:
            bugs[bug.error_type].append(bug)
    return bugs


def _operator_bugs(operators: list[Node]) -> Iterator[Bug]:
    """``<`` for ``<=`` and the like (off by one); ``-`` for ``+`` and the like (wrong operator)."""
    for node in operators:
        old = node.type
        if old in _OFF_BY_ONE:
            new = _OFF_BY_ONE[old]
            why = f"the comparison uses `{new}` where `{old}` is needed, an off-by-one error."
            yield _replace("off_by_one", node, new, why)
        if old in _WRONG_OPERATOR:
            new = _WRONG_OPERATOR[old]
            why = f"the operator `{new}` is used where `{old}` is needed."
            yield _replace("wrong_operator", node, new, why)


def _bound_bugs(lengths_minus_one: list[Node], range_ends: list[Node]) -> Iterator[Bug]:
    """``len(x) - 1`` becoming ``len(x)``; ``range(n)`` becoming ``range(n + 1)``."""
    for node in lengths_minus_one:
        left = text_of(node.child_by_field_name("left") or node)
        why = f"`{left}` is used where `{_brief(node)}` is needed, one past the end."
        yield _replace("off_by_one", node, left, why)
    for node in range_ends:
        if node.type not in _NOT_POSITIONAL:
            new = text_of(node) + " + 1" if node.type in _ATOMS else f"({text_of(node)}) + 1"
            why = f"the range ends at `{new}` instead of `{_brief(node)}`, one step too far."
            yield _replace("off_by_one", node, new, why)


def _replace(error_type: ErrorType, node: Node, new: str, why: str) -> Bug:
    return Bug(error_type, node.start_byte, node.end_byte, new.encode(), why)


def _brief(node: Node, limit: int = 60) -> str:
    """A node's text for a sentence: its first line, cut to ``limit`` characters."""
    return _brief_text(text_of(node), limit)


def _brief_text(text: str, limit: int = 60) -> str:
    first = text.split("\n", 1)[0]
    return first if first == text and len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _removed_guard(parsed: ParsedSnippet, guard: Node) -> Bug | None:
    """Removing a guard's lines, where it has them to itself and its block keeps a statement."""
    source = parsed.standalone.source
    line_start = source.rfind(b"\n", 0, guard.start_byte) + 1
    line_end = source.find(b"\n", guard.end_byte)
    if line_start <= parsed.standalone.offset or not 0 <= line_end <= parsed.standalone.end:
        return None
    if source[line_start : guard.start_byte].strip() or source[guard.end_byte : line_end].strip():
        return None
    siblings = guard.parent.named_children if guard.parent is not None else []
    statements = [node for node in siblings if "comment" not in node.type]
    if parsed.language == "python" and len(statements) < 2:
        return None  # an empty block does not parse
    condition = guard.named_children[0] if guard.type == "expression_statement" else guard
    condition = condition.child_by_field_name("condition") or condition
    if condition.type == "parenthesized_expression":
        condition = condition.named_children[0]
    why = f"the early exit when `{_brief(condition)}` is missing, so that case goes unhandled."
    return Bug("missing_null_check", line_start, line_end + 1, b"", why)


def _swaps(parsed: ParsedSnippet, arguments: Node) -> Iterator[Bug]:
    """Swapping each adjacent pair of differing positional arguments of a call."""
    call = arguments.parent
    fields = ("function", "name", "constructor", "type")
    callees = (call.child_by_field_name(name) for name in fields) if call is not None else ()
    callee = next((node for node in callees if node is not None), None)
    name = _brief(callee, 40) if callee is not None else "the call"
    if parsed.language == "go" and name in ("make", "new"):
        return  # their first argument is a type
    source = parsed.standalone.source
    positional = [node for node in arguments.named_children if node.type not in _NOT_POSITIONAL]
    for first, second in pairwise(positional):
        one, two = first.text or b"", second.text or b""
        if one != two:
            swapped = two + source[first.end_byte : second.start_byte] + one
            pair = f"`{_brief(first, 30)}` and `{_brief(second, 30)}`"
            why = f"the arguments {pair} of `{name}` are swapped."
            yield Bug("swapped_arguments", first.start_byte, second.end_byte, swapped, why)


def _wrong_return(value: Node, language: str) -> Bug | None:
    """A flipped literal (True/False, 0/1), or in Python and JavaScript the value dropped."""
    literal = value
    if value.type == "expression_list" and value.named_child_count == 1:
        literal = value.named_children[0]
    old = text_of(literal)
    if old in _FLIPPED:
        new = _FLIPPED[old]
        return _replace("wrong_return", literal, new, f"it returns `{new}` where `{old}` is right.")
    keyword = value.prev_sibling
    if language in _DROPPED_RETURN and keyword is not None and keyword.type == "return":
        nothing = _DROPPED_RETURN[language]
        why = f"the return value `{_brief(value)}` is missing, so it returns {nothing}."
        return Bug("wrong_return", keyword.end_byte, value.end_byte, b"", why)
    return None


def _inverted(condition: Node, language: str) -> Bug | None:
    """The condition negated: a ``not`` or ``!`` taken off, or put on (parenthesized if needed)."""
    if condition.type in ("let_condition", "let_chain") or "comment" in condition.type:
        return None
    argument = condition.child_by_field_name("argument")
    operator = condition.child_by_field_name("operator")
    negated = condition.type == "not_operator" or (
        condition.type == "unary_expression" and operator is not None and operator.type == "!"
    )
    old = text_of(condition)
    if negated and argument is not None:
        new = text_of(argument)
    else:
        operand = old if condition.type in _ATOMS else f"({old})"
        new = f"not {operand}" if language == "python" else f"!{operand}"
    why = f"the condition `{_brief(condition)}` is inverted to `{_brief_text(new)}`."
    return _replace("boolean_inversion", condition, new, why)
