"""Variants mean what the snippet means; injected bugs are real, located and explained."""

import dis
import inspect
import re
import textwrap
import types
from pathlib import Path
from typing import NamedTuple

import pytest

from streams.augment import (
    InjectedError,
    augment,
    augment_parsed,
    inject_error,
    inject_error_parsed,
    reformat,
    rename_variables,
    vary_comments,
)
from streams.extract import extract_symbols
from streams.languages import parser_for
from streams.snippets import in_file, parse_errors, parse_snippet, standalone
from tests.unit.streams import test_extract_languages as sources


class Snippet(NamedTuple):
    """A snippet as the functions take it: ``fn(*snippet, seed)``."""

    code: str
    language: str
    kind: str
    column: int


PY_METHOD = Snippet(
    '''\
def summarize(self, orders, limit=10):
        """Total the paid orders, at most `limit` of them.

        The lines of a docstring move with it.
        """
        total = 0  # running sum
        count = 0
        for order in orders:
            if order is None:
                continue
            if count >= limit:
                break
            total += order.total * self.rate
            count += 1

        def describe(order):
            label = f"{order.id}: {order.total}"
            return label.upper()

        names = [describe(order) for order in orders if order]
        self.report(total, names=names, last=len(names) - 1)
        return total''',
    "python",
    "method",
    4,
)
PY_SHADOWING = Snippet(
    """\
def render(rows, sep="|"):
    def cell(value):
        width = 8  # local to cell: the `width` below is the module's
        sep = " "
        return sep + str(value).ljust(width)

    return sep.join(cell(row) for row in rows) + sep * width""",
    "python",
    "function",
    0,
)
PY_CLASS = Snippet(
    """\
class Counter:
    step = 1

    def bump(self, amount):
        total = amount * self.step
        return total""",
    "python",
    "class",
    0,
)
PY_BUGS = Snippet(
    """\
def find_slot(slots, wanted, start=0):
    if slots is None:
        return False
    for index in range(start, len(slots)):
        if slots[index] == wanted and index > start:
            return True
    last = len(slots) - 1
    return min(last, max(start, 0)) == last""",
    "python",
    "function",
    0,
)
JS_FUNCTION = Snippet(
    """\
function mergeOptions(defaults, overrides) {
  // Nothing to merge: keep the defaults.
  if (!overrides) {
    return defaults;
  }
  var merged = Object.assign({}, defaults);
  for (const key of Object.keys(overrides)) {
    const value = overrides[key];
    if (value !== undefined && key !== "debug") {
      merged[key] = value;
    }
  }
  const { retries, timeout = 1000 } = merged;
  return { ...merged, retries, timeout: Math.min(timeout, retries * 500) };
}""",
    "javascript",
    "function",
    0,
)
TS_METHOD = Snippet(
    """\
constructor(private readonly store: Store, retries = 3, { timeout, signal }: Options = {}) {
    /* remember the policy */
    this.retries = retries;
    this.controller = { signal, deadline: Date.now() + timeout };
  }""",
    "typescript",
    "method",
    2,
)
TS_FETCH = Snippet(
    """\
async fetchPage<T>(url: string, page?: number): Promise<T[]> {
    const query = new URLSearchParams({ page: String(page ?? 0) });
    for (let attempt = 0; attempt < this.retries; attempt++) {
      const response = await fetch(`${url}?${query}`);
      if (!response.ok) {
        continue;
      }
      return (await response.json()) as T[];
    }
    throw new Error(`gave up on ${url}`);
  }""",
    "typescript",
    "method",
    2,
)
TSX_COMPONENT = Snippet(
    """\
export function Counter({ start, label }: Props) {
  const [count, setCount] = useState(start);
  const div = "counter";
  return (
    <div className={div} onClick={() => setCount(count + 1)}>
      {label}: {count}
    </div>
  );
}""",
    "tsx",
    "function",
    0,
)
JAVA_METHOD = Snippet(
    """\
public int drain(List<Task> tasks, int limit) {
        int count = 0;
        for (Task task : tasks) {
            if (task == null) {
                continue;
            }
            if (count >= limit || task.isCancelled()) {
                break;
            }
            this.count += task.run(limit, count);
            count++;
        }
        log.info("drained {} of {}", count, tasks.size() - 1);
        return count;
    }""",
    "java",
    "method",
    4,
)
GO_METHOD = Snippet(
    """\
// Load reads one entry.
func (s *Store) Load(ctx context.Context, key string) (*Entry, error) {
	raw, err := s.backend.Get(ctx, key) // one round trip
	if err != nil {
		return nil, err
	}
	entry := &Entry{key: key, size: len(raw) - 1}
	for i := 0; i < len(raw); i++ {
		entry.sum += int(raw[i])
	}
	return entry, nil
}""",
    "go",
    "method",
    0,
)
GO_STRUCT = Snippet(
    """\
type Entry struct {
	// Key names the entry.
	Key  string
	size int // in bytes
}""",
    "go",
    "class",
    0,
)
RUST_METHOD = Snippet(
    """\
pub fn resize(&mut self, width: usize, height: usize) -> Option<Frame> {
        // An empty frame has nothing to resize.
        if self.pixels.is_empty() {
            return None;
        }
        let width = width.max(1);
        let area = width * height;
        let frame = Frame { width, height, area };
        println!("resized to {width}x{}", height);
        match self.mode {
            Mode::Fast => Some(frame),
            _ => None,
        }
    }""",
    "rust",
    "method",
    4,
)

SNIPPETS = {
    "python method": PY_METHOD,
    "python shadowing": PY_SHADOWING,
    "python class": PY_CLASS,
    "python bugs": PY_BUGS,
    "javascript": JS_FUNCTION,
    "typescript constructor": TS_METHOD,
    "typescript method": TS_FETCH,
    "tsx": TSX_COMPONENT,
    "java method": JAVA_METHOD,
    "go method": GO_METHOD,
    "go struct": GO_STRUCT,
    "rust method": RUST_METHOD,
}
ALL = pytest.mark.parametrize("snippet", SNIPPETS.values(), ids=SNIPPETS.keys())


def _gone(snippet: Snippet, renamed: str) -> set[str]:
    """The identifiers of the snippet's code (not of its strings or comments) that were renamed."""
    return _identifiers(snippet, snippet.code) - _identifiers(snippet, renamed)


def _identifiers(snippet: Snippet, code: str) -> set[str]:
    found, pending = set(), [parse_snippet(code, *snippet[1:]).tree.root_node]
    while pending:
        node = pending.pop()
        if node.type.endswith("identifier") and node.text is not None:
            found.add(node.text.decode())
        pending.extend(node.children)
    return found


def _code_objects(code: str, column: int) -> list[types.CodeType]:
    """Every code object the snippet compiles to, outermost first."""
    whole = standalone(code, "python", "function", column)
    found, pending = [], [compile(whole.source, "<snippet>", "exec")]
    while pending:
        found.append(pending.pop(0))
        pending.extend(c for c in found[-1].co_consts if isinstance(c, types.CodeType))
    return found


def _same_bytecode(before: str, after: str, column: int) -> bool:
    """The same instructions on the same operands, whatever the local variables are named.

    Local operands are left out (a renamed closure variable may reorder the cells) and so are
    the names of keyword-only parameters a signature loads; strings compare by their words (a
    re-indented docstring keeps them).
    """
    old, new = _code_objects(before, column), _code_objects(after, column)
    return [_instructions(c) for c in old] == [_instructions(c) for c in new]


_LOCAL_OPERATIONS = frozenset(
    {"LOAD_FAST", "STORE_FAST", "DELETE_FAST", "LOAD_DEREF", "STORE_DEREF", "DELETE_DEREF"}
    | {"LOAD_CLOSURE", "MAKE_CELL", "COPY_FREE_VARS"}
)


def _instructions(code: types.CodeType) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for instruction in dis.get_instructions(code):
        operand = instruction.argval
        signature = instruction.opname == "LOAD_CONST" and isinstance(operand, tuple)
        if signature or instruction.opname in _LOCAL_OPERATIONS:
            operand = None
        elif isinstance(operand, types.CodeType):
            operand = operand.co_name
        elif isinstance(operand, str):
            operand = operand.split()
        found.append((instruction.opname, operand))
    return found


@ALL
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_variant_parses_differs_and_is_reproducible(snippet: Snippet, seed: int) -> None:
    code, language, kind, column = snippet
    variants = augment(code, language, kind, column, seed)

    assert variants
    assert len({variant.kind for variant in variants}) == len(variants)
    for variant in variants:
        assert variant.code != code
        assert parse_errors(variant.code, language, kind, column) is None, variant
    assert augment(code, language, kind, column, seed) == variants


@ALL
def test_an_injected_error_parses_and_is_reproducible(snippet: Snippet) -> None:
    code, language, kind, column = snippet
    error = inject_error(code, language, kind, column, seed=4)
    if snippet is GO_STRUCT:
        assert error is None  # a struct has no code to break
        return

    assert error is not None
    assert error.fixed == code
    assert error.buggy != code
    assert parse_errors(error.buggy, language, kind, column) is None
    assert inject_error(code, language, kind, column, seed=4) == error


def test_python_renaming_keeps_the_bytecode_and_leaves_attributes_and_keywords_alone() -> None:
    code, language, kind, column = PY_METHOD
    renamed = rename_variables(code, language, kind, column, seed=3)

    assert renamed is not None
    assert _same_bytecode(code, renamed, column)
    assert _gone(PY_METHOD, renamed) == {"orders", "limit", "order", "count", "label"}
    # Attributes keep their names, and so do names passed as keywords (a caller uses them).
    assert ".total * self.rate" in renamed and "{order.id}" not in renamed
    assert re.search(r"self\.report\(\w+, names=names, last=len\(names\) - 1\)", renamed)
    assert "def describe(" in renamed and "def summarize(self, " in renamed
    assert '"""Total the paid orders, at most `limit` of them.' in renamed


def test_a_name_local_to_a_nested_function_keeps_its_outer_global_uses() -> None:
    code, language, kind, column = PY_SHADOWING
    renamed = rename_variables(code, language, kind, column, seed=0)

    assert renamed is not None
    assert _same_bytecode(code, renamed, column)  # the outer `width` is still the global
    assert renamed.endswith(" * width")
    assert "width = 8" not in renamed
    # `sep` is bound in both functions: each binding is renamed with its own uses, to one name.
    new_sep = re.search(r"def render\(\w+, (\w+)=", renamed)
    assert new_sep is not None and new_sep.group(1) != "sep"
    assert f'{new_sep.group(1)} = " "' in renamed


def test_class_body_names_are_attributes_and_keep_their_names() -> None:
    code, language, kind, column = PY_CLASS
    renamed = rename_variables(code, language, kind, column, seed=0)

    assert renamed is not None
    assert _same_bytecode(code, renamed, column)
    assert "    step = 1" in renamed and "self.step" in renamed
    assert _gone(PY_CLASS, renamed) == {"amount", "total"}


def test_a_snippet_that_does_not_parse_yields_nothing() -> None:
    broken = "def total(items):\n    return sum(item.price for item in items\n"
    assert augment(broken, "python", "function", 0, seed=1) == []
    assert inject_error(broken, "python", "function", 0, seed=1) is None


def test_non_ascii_text_is_edited_by_bytes_and_survives() -> None:
    code = 'def grüße(namen):\n    # für alle\n    return [f"Hallo {n} → schön" for n in namen]'
    renamed = rename_variables(code, "python", "function", 0, seed=3)
    assert renamed is not None and "def grüße(" in renamed and "→ schön" in renamed
    assert "namen" not in renamed


def test_nothing_to_rename_gives_none() -> None:
    assert rename_variables("def ping():\n    return pong()", "python", "function", 0, 0) is None
    assert rename_variables("func Now() int {\n\treturn clock()\n}", "go", "function", 0, 0) is None


def test_javascript_renaming_expands_shorthand_properties() -> None:
    renamed = rename_variables(*JS_FUNCTION, seed=1)

    assert renamed is not None
    gone = {"defaults", "overrides", "merged", "key", "value", "retries", "timeout"}
    assert _gone(JS_FUNCTION, renamed) == gone - {"retries", "timeout"}  # now property names
    # `{ retries }` still reads the property `retries`, now into a renamed variable.
    assert re.search(r"const \{ retries: (\w+), timeout: (\w+) = 1000 \} = ", renamed)
    assert re.search(r"return \{ \.\.\.\w+, retries: \w+, timeout: Math\.min\(", renamed)
    assert "Object.keys(" in renamed and "undefined" in renamed


def test_typescript_parameter_properties_keep_their_names() -> None:
    renamed = rename_variables(*TS_METHOD, seed=1)

    assert renamed is not None
    assert "private readonly store: Store" in renamed  # it is also the field this.store
    assert "this.retries = " in renamed and "this.retries = retries" not in renamed
    assert re.search(r"\{ timeout: \w+, signal: \w+ \}: Options = \{\}", renamed)
    assert re.search(r"this\.controller = \{ signal: \w+, deadline: ", renamed)


def test_a_jsx_tag_keeps_its_name_even_where_a_variable_shares_it() -> None:
    renamed = rename_variables(*TSX_COMPONENT, seed=2)

    assert renamed is not None
    assert "<div className={div} onClick={() => " in renamed and "</div>" in renamed
    assert re.search(r"\{ start: \w+, label: \w+ \}: Props", renamed)
    assert "useState(" in renamed and "setCount" not in renamed


def test_java_renaming_leaves_fields_and_methods_alone() -> None:
    renamed = rename_variables(*JAVA_METHOD, seed=5)

    assert renamed is not None
    assert _gone(JAVA_METHOD, renamed) == {"tasks", "limit", "task"}
    assert "this.count += " in renamed and ".isCancelled()" in renamed and "log.info(" in renamed
    local = re.search(r"int (\w+) = 0;", renamed)
    assert local is not None and local.group(1) != "count"
    assert f"return {local.group(1)};" in renamed


def test_go_renaming_keeps_the_receiver_and_composite_literal_keys() -> None:
    renamed = rename_variables(*GO_METHOD, seed=0)

    assert renamed is not None
    assert renamed.startswith("// Load reads one entry.\nfunc (s *Store) Load(")
    # `key` is also a field name in `Entry{key: key}`: renaming the variable alone is unsafe.
    assert "Entry{key: key, size: len(" in renamed
    assert _gone(GO_METHOD, renamed) == {"ctx", "raw", "err", "entry", "i"}


def test_rust_renaming_handles_shadowing_shorthand_and_format_arguments() -> None:
    renamed = rename_variables(*RUST_METHOD, seed=0)

    assert renamed is not None
    # `{width}` inside the format string names the variable: it keeps its name.
    assert "let width = width.max(1);" in renamed and '"resized to {width}x{}"' in renamed
    assert _gone(RUST_METHOD, renamed) == {"frame"}  # height and area stay as field names
    assert re.search(r"Frame \{ width, height: \w+, area: \w+ \}", renamed)
    assert "&mut self" in renamed and "Mode::Fast => Some(" in renamed and "_ => None" in renamed


def test_renaming_depends_on_the_seed_only() -> None:
    code, language, kind, column = PY_METHOD
    by_seed = {seed: rename_variables(code, language, kind, column, seed) for seed in range(6)}

    assert len(set(by_seed.values())) > 1
    assert all(rename_variables(code, language, kind, column, s) == by_seed[s] for s in by_seed)


def test_comments_go_and_docstrings_doc_comments_and_directives_stay() -> None:
    stripped = vary_comments(*PY_METHOD, seed=0)
    assert stripped is not None
    assert "# running sum" not in stripped and "total = 0\n" in stripped
    assert "The lines of a docstring move with it." in stripped
    assert _same_bytecode(PY_METHOD.code, stripped, PY_METHOD.column)

    go = vary_comments(*GO_METHOD, seed=0)
    assert go is not None and "round trip" not in go and "// Load reads one entry." not in go
    assert vary_comments(*GO_STRUCT, seed=0) == GO_STRUCT.code.replace(" // in bytes", "")

    java = "void run() {\n        /** kept */\n        go(); /* cut */ stop();\n    }"
    assert vary_comments(java, "java", "method", 4, seed=0) == (
        "void run() {\n        /** kept */\n        go(); stop();\n    }"
    )
    directive = "func f() {\n\t//go:noinline\n\tg() // cut\n}"
    assert vary_comments(directive, "go", "function", 0, seed=0) == (
        "func f() {\n\t//go:noinline\n\tg()\n}"
    )


def test_no_comments_gives_none() -> None:
    assert vary_comments(*PY_CLASS, seed=0) is None
    # A `#` inside a string is no comment.
    assert vary_comments('def f():\n    return "#1"', "python", "function", 0, seed=0) is None


def test_python_reformatting_keeps_the_bytecode_and_the_blocks() -> None:
    code, language, kind, column = PY_METHOD
    outputs = {reformat(code, language, kind, column, seed) for seed in range(8)}

    assert None not in outputs
    for output in outputs:
        assert output is not None
        assert _same_bytecode(code, output, column) or "'" in output  # quotes: same bytecode
        assert parse_errors(output, language, kind, column) is None
    two_spaces = next(o for o in outputs if o and "\n      total = 0" in o)
    # A method at column 4 keeps its base; its body is re-indented by 2 per block.
    assert "\n        if order is None:\n          continue" in two_spaces
    assert "\n      The lines of a docstring move with it." in two_spaces


def test_python_quotes_switch_only_where_the_text_allows() -> None:
    code = "def f(d):\n    return d['key'] + d[\"it's\"] + 'a\\'b' + f'{d[\"x\"]}'"
    outputs = {reformat(code, "python", "function", 0, seed) for seed in range(8)}

    quoted = next(o for o in outputs if o and '"key"' in o)
    assert 'd["it\'s"]' in quoted and "'a\\'b'" in quoted and "f'{d[\"x\"]}'" in quoted


def test_brace_languages_change_indentation_or_brace_lines_but_go_keeps_its_braces() -> None:
    java = {reformat(*JAVA_METHOD, seed=seed) for seed in range(8)}
    assert any(o and "int limit)\n    {\n" in o for o in java)  # the brace on a line of its own
    assert any(o and "\n\t\tint count = 0;" in o for o in java)  # tabs, the base's level too

    go = {reformat(*GO_METHOD, seed=seed) for seed in range(8)}
    for output in go:
        assert output is not None
        assert "(*Entry, error) {\n" in output and "err != nil {\n" in output
        assert output.replace(" ", "").replace("\t", "") == GO_METHOD.code.replace(" ", "").replace(
            "\t", ""
        )


def test_rust_allman_braces_join_their_header_line() -> None:
    allman = "fn main()\n{\n    if ready()\n    {\n        go();\n    }\n}"
    outputs = {reformat(allman, "rust", "function", 0, seed) for seed in range(8)}
    assert "fn main() {\n    if ready() {\n        go();\n    }\n}" in outputs


# --- injected errors ----------------------------------------------------------------------------

ERROR_CASES = [
    (
        "off_by_one",
        PY_BUGS,
        r"range\(start, len\(slots\) \+ 1\)|index >= start|last = len\(slots\)\n",
    ),
    ("wrong_operator", PY_BUGS, r"!= wanted|wanted or index| \+ 1\n"),
    ("missing_null_check", PY_BUGS, r"^(?!.*is None)"),
    ("swapped_arguments", PY_BUGS, r"range\(len\(slots\), start\)|max\(0, start\)|min\(max"),
    ("wrong_return", PY_BUGS, r"return True\n    for|return False\n    last"),
    ("boolean_inversion", PY_BUGS, r"if not \(|if slots is not None|if not"),
    ("missing_null_check", JS_FUNCTION, r"^(?!.*!overrides)"),
    ("missing_null_check", TS_FETCH, r"^(?!.*response\.ok)"),
    ("missing_null_check", JAVA_METHOD, r"^(?!.*task == null)"),
    ("missing_null_check", GO_METHOD, r"^(?!.*err != nil)"),
    ("missing_null_check", RUST_METHOD, r"^(?!.*is_empty)"),
    ("off_by_one", JAVA_METHOD, r"count > limit|tasks\.size\(\)\)"),
    ("off_by_one", GO_METHOD, r"i <= len\(raw\)|size: len\(raw\)\}"),
    ("wrong_operator", RUST_METHOD, r"width / height"),
    ("boolean_inversion", RUST_METHOD, r"if !self\.pixels\.is_empty\(\)"),
    ("wrong_return", TS_FETCH, r"return;"),
    ("swapped_arguments", JAVA_METHOD, r"task\.run\(count, limit\)|\"drained \{\} of \{\}\""),
]


def _error_of_type(snippet: Snippet, error_type: str) -> InjectedError:
    for seed in range(200):
        error = inject_error(*snippet, seed=seed)
        if error is not None and error.error_type == error_type:
            return error
    raise AssertionError(f"no {error_type} in 200 seeds")


@pytest.mark.parametrize(
    ("error_type", "snippet", "pattern"),
    ERROR_CASES,
    ids=[f"{t}-{s.language}" for t, s, _ in ERROR_CASES],
)
def test_each_error_type_appears_where_the_snippet_allows_it(
    error_type: str, snippet: Snippet, pattern: str
) -> None:
    code, language, kind, column = snippet
    error = _error_of_type(snippet, error_type)

    assert error.fixed == code and error.buggy != code
    assert parse_errors(error.buggy, language, kind, column) is None
    assert re.search(pattern, error.buggy, re.DOTALL), error.buggy
    line = int(re.match(r"Line (\d+): ", error.explanation).group(1))  # type: ignore[union-attr]
    assert line == error.line
    assert 1 <= line <= code.count("\n") + 1
    assert error.explanation.endswith(".") and "\n" not in error.explanation
    if error_type != "missing_null_check":  # a removed line shifts the ones below it
        assert error.buggy.split("\n")[line - 1] != code.split("\n")[line - 1]


def test_an_explanation_names_the_line_and_what_is_wrong() -> None:
    error = _error_of_type(PY_BUGS, "missing_null_check")
    assert error.explanation == (
        "Line 2: the early exit when `slots is None` is missing, so that case goes unhandled."
    )
    assert error.buggy.startswith("def find_slot(slots, wanted, start=0):\n    for index in")


def test_errors_never_touch_strings_or_comments() -> None:
    code = 'def check(a, b):\n    # a < b + 1\n    if a < b:\n        log("a < b", a)\n    return a'
    for seed in range(20):
        error = inject_error(code, "python", "function", 0, seed)
        assert error is not None
        assert "# a < b + 1" in error.buggy and '"a < b"' in error.buggy


# --- real code ----------------------------------------------------------------------------------


def test_every_textwrap_symbol_keeps_its_bytecode_under_every_variant() -> None:
    path = inspect.getsourcefile(textwrap)
    assert path is not None
    source = Path(path).read_bytes()
    lines = source.decode().splitlines()
    symbols = extract_symbols(source, path, "python").symbols
    assert len(symbols) > 15

    for index, symbol in enumerate(symbols):
        first = lines[symbol.start_line - 1]
        column = len(first) - len(first.lstrip())
        for variant in augment(symbol.body, "python", symbol.kind, column, seed=index):
            same = _same_bytecode(symbol.body, variant.code, column)
            assert same, (symbol.qualified_name, variant.kind)
        error = inject_error(symbol.body, "python", symbol.kind, column, seed=index)
        if error is not None:
            assert not _same_bytecode(symbol.body, error.buggy, column), symbol.qualified_name


def _file_sources() -> list[tuple[str, str, bytes]]:
    """Real files of every language: the extraction tests' sources and this repository's."""
    found = [
        ("javascript", "app.js", sources.JAVASCRIPT),
        ("javascript", "view.jsx", sources.JSX),
        ("typescript", "api.ts", sources.TYPESCRIPT),
        ("tsx", "view.tsx", sources.TSX),
        ("go", "main.go", sources.GO),
        ("java", "Main.java", sources.JAVA),
        ("rust", "lib.rs", sources.RUST),
    ]
    root = Path(__file__).parents[3]
    python = [root / "streams" / "augment" / "layout.py", root / "streams" / "examples.py"]
    return [(lang, path, code.encode()) for lang, path, code in found] + [
        ("python", str(path), path.read_bytes()) for path in python
    ]


@pytest.mark.parametrize("language,path,data", _file_sources(), ids=lambda v: str(v)[-12:])
def test_a_snippet_taken_from_its_files_tree_gives_what_a_parse_of_its_own_gives(
    language: str, path: str, data: bytes
) -> None:
    """The chain reuses the file's tree for a verbatim snippet: every variant and every injected
    bug must be the same as from the snippet parsed standalone."""
    from tree_sitter import Parser

    parser: Parser = parser_for(language)
    tree = parser.parse(data)
    symbols = [s for s in extract_symbols(data, path, language).symbols if s.kind != "class"]
    assert len(symbols) >= 2
    changed = 0
    for seed, symbol in enumerate(symbols):
        assert data[symbol.start_byte : symbol.end_byte].decode() == symbol.body
        alone = parse_snippet(symbol.body, language, symbol.kind, symbol.start_column)
        held = in_file(
            tree, data, symbol.start_byte, symbol.end_byte, symbol.start_line - 1, language
        )
        column = symbol.start_column
        variants = augment_parsed(alone, symbol.kind, column, seed)
        assert augment_parsed(held, symbol.kind, column, seed) == variants
        for bug_seed in (seed, seed + 1000):
            expected = inject_error_parsed(alone, symbol.kind, column, bug_seed)
            assert inject_error_parsed(held, symbol.kind, column, bug_seed) == expected
        changed += bool(variants)
    assert changed >= 1
