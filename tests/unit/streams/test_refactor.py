"""Refactoring pairs from real git histories: each test commits versions of a file with the git
CLI, reads both sides of a commit back with pygit2 as the processor does, and checks the pairs."""

from pathlib import Path

import pygit2
import pytest

from streams.languages import language_for_path
from streams.mirror import changed_files, commit_info, read_blob
from streams.refactor import MAX_DIFF_CHARS, SymbolChange, symbol_changes
from tests.support.gitrepo import GitRepo


def commit_pairs(repo: GitRepo, sha: str) -> list[SymbolChange]:
    """The pairs of every supported file ``sha`` modified, against its first parent."""
    git = pygit2.Repository(str(repo.path))
    info = commit_info(git, sha)
    parent = git[info.parents[0]].peel(pygit2.Commit)
    pairs = []
    for changed in changed_files(git, sha):
        language = language_for_path(changed.path)
        if language is None or changed.status == "added":
            continue
        old_blob = parent.tree[changed.old_path or changed.path]
        before = read_blob(git, str(old_blob.id))
        after = read_blob(git, changed.blob_sha)
        pairs += symbol_changes(before, after, changed.path, language.name, info.message)
    return pairs


def summary(pairs: list[SymbolChange]) -> list[tuple[str, str, str]]:
    return [(p.before_symbol, p.after_symbol, p.change) for p in pairs]


# --- Python: one file through a history of typical commits ----------------------------------------

PAGER_V0 = '''"""Paging over lists."""

PAGE_SIZE = 10


def fetch_page(items, page):
    """Return page ``page`` of ``items``."""
    start = page * PAGE_SIZE
    end = start + PAGE_SIZE + 1
    return items[start:end]


def page_count(items):
    return (len(items) + PAGE_SIZE - 1) // PAGE_SIZE


class Pager:
    def __init__(self, items):
        self.items = items

    def __repr__(self):
        return f"Pager({len(self.items)} items)"

    def pages(self):
        out = []
        for number in range(page_count(self.items)):
            chunk = fetch_page(self.items, number)
            out.append(chunk)
        return out
'''
PAGER_RENAMED = PAGER_V0.replace("fetch_page", "load_page")
PAGER_SIZED = PAGER_RENAMED.replace(
    '''def load_page(items, page):
    """Return page ``page`` of ``items``."""
    start = page * PAGE_SIZE
    end = start + PAGE_SIZE + 1''',
    '''def load_page(items, page, size=PAGE_SIZE):
    """Return page ``page`` of ``items``."""
    start = page * size
    end = start + size + 1''',
)
PAGER_FIXED = PAGER_SIZED.replace("    end = start + size + 1\n", "    end = start + size\n")
PAGER_GUARDED = PAGER_FIXED.replace(
    "    def pages(self):\n        out = []\n",
    "    def pages(self):\n        if not self.items:\n            return []\n        out = []\n",
)
PAGER_EXTRACTED = (
    PAGER_GUARDED.replace(
        """    def pages(self):
        if not self.items:
            return []
        out = []
        for number in range(page_count(self.items)):
            chunk = load_page(self.items, number)
            out.append(chunk)
        return out
""",
        """    def pages(self):
        return collect_pages(self.items)
""",
    )
    + """

def collect_pages(items):
    if not items:
        return []
    return [load_page(items, number) for number in range(page_count(items))]
"""
)
PAGER_REFORMATTED = (
    PAGER_EXTRACTED.replace(
        '''    """Return page ``page`` of ``items``."""
    start = page * size
''',
        '''    """Return one page of ``items``, numbered from 0."""
    start = page*size  # first index on the page
''',
    )
    .replace(
        "    return (len(items) + PAGE_SIZE - 1) // PAGE_SIZE\n",
        "    return (\n        (len(items) + PAGE_SIZE - 1)\n        // PAGE_SIZE\n    )\n",
    )
    .replace(
        '''return f"Pager({len(self.items)} items)"''',
        """return f'Pager({len(self.items)} items)'""",
    )
)
PAGER_FASTER = PAGER_REFORMATTED.replace(
    "    return (\n        (len(items) + PAGE_SIZE - 1)\n        // PAGE_SIZE\n    )\n",
    "    return -(-len(items) // PAGE_SIZE)\n",
)


@pytest.fixture(scope="module")
def pager_history(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo(tmp_path_factory.mktemp("pager"))
    repo.commit({"src/pager.py": PAGER_V0}, "Add a pager")
    shas = {
        name: repo.commit({"src/pager.py": text}, message)
        for name, text, message in [
            ("rename", PAGER_RENAMED, "Rename fetch_page to load_page"),
            ("signature", PAGER_SIZED, "Let callers choose the page size"),
            ("fix", PAGER_FIXED, "Fix off-by-one in pager"),
            ("guard", PAGER_GUARDED, "Return early for empty input"),
            ("extract", PAGER_EXTRACTED, "Collect pages in a function of its own"),
            ("reformat", PAGER_REFORMATTED, "Reformat with black"),
            ("faster", PAGER_FASTER, "Speed up page_count"),
            ("broken", PAGER_FASTER + "\ndef half(:\n", "WIP"),
        ]
    }
    return repo, shas


def test_rename_pairs_the_function_and_its_caller(
    pager_history: tuple[GitRepo, dict[str, str]],
) -> None:
    repo, shas = pager_history
    pairs = commit_pairs(repo, shas["rename"])
    assert summary(pairs) == [
        ("fetch_page", "load_page", "rename"),
        ("Pager.pages", "Pager.pages", "other"),
    ]
    renamed = pairs[0]
    assert renamed.changes == ["rename"] and renamed.kind == "function"
    assert renamed.before.startswith("def fetch_page(items, page):")
    assert renamed.after.startswith("def load_page(items, page):")
    assert (renamed.before_start_line, renamed.before_end_line) == (6, 10)
    assert (renamed.after_start_line, renamed.after_end_line) == (6, 10)
    assert renamed.path == "src/pager.py" and renamed.language == "python"


def test_signature_change(pager_history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, shas = pager_history
    (pair,) = commit_pairs(repo, shas["signature"])
    assert (pair.after_symbol, pair.change, pair.changes) == (
        "load_page",
        "signature_change",
        ["signature_change"],
    )


def test_bug_fix_from_the_message_with_a_diff_in_file_lines(
    pager_history: tuple[GitRepo, dict[str, str]],
) -> None:
    repo, shas = pager_history
    (pair,) = commit_pairs(repo, shas["fix"])
    assert (pair.after_symbol, pair.change) == ("load_page", "bug_fix")
    assert pair.diff.splitlines() == [
        "--- a/src/pager.py",
        "+++ b/src/pager.py",
        "@@ -6,5 +6,5 @@",
        " def load_page(items, page, size=PAGE_SIZE):",
        '     """Return page ``page`` of ``items``."""',
        "     start = page * size",
        "-    end = start + size + 1",
        "+    end = start + size",
        "     return items[start:end]",
    ]


def test_bug_fix_from_an_added_guard(pager_history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, shas = pager_history
    (pair,) = commit_pairs(repo, shas["guard"])
    assert (pair.after_symbol, pair.kind, pair.changes) == ("Pager.pages", "method", ["bug_fix"])


def test_extract_function(pager_history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, shas = pager_history
    (pair,) = commit_pairs(repo, shas["extract"])  # the new helper and the class are no pairs
    assert (pair.after_symbol, pair.change) == ("Pager.pages", "extract_function")
    assert pair.after == "def pages(self):\n        return collect_pages(self.items)"


def test_reformat_only_is_style(pager_history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, shas = pager_history
    assert summary(commit_pairs(repo, shas["reformat"])) == [
        ("load_page", "load_page", "style"),
        ("page_count", "page_count", "style"),
        ("Pager.__repr__", "Pager.__repr__", "style"),
    ]


def test_performance_from_the_message(pager_history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, shas = pager_history
    (pair,) = commit_pairs(repo, shas["faster"])
    assert (pair.after_symbol, pair.changes) == ("page_count", ["performance"])


def test_a_side_that_does_not_parse_gives_nothing(
    pager_history: tuple[GitRepo, dict[str, str]],
) -> None:
    repo, shas = pager_history
    assert commit_pairs(repo, shas["broken"]) == []


# --- Python: classes, nesting, priorities ---------------------------------------------------------


def test_class_rename_pairs_the_class_not_its_unchanged_methods() -> None:
    renamed = PAGER_V0.replace("class Pager:", "class Paginator:")
    assert summary(symbol_changes(PAGER_V0.encode(), renamed.encode(), "p.py", "python", "")) == [
        ("Pager", "Paginator", "rename")
    ]


def test_class_is_a_pair_only_when_its_own_text_changed() -> None:
    method_only = PAGER_V0.replace("self.items = items", "self.items = list(items)")
    pairs = symbol_changes(PAGER_V0.encode(), method_only.encode(), "p.py", "python", "")
    assert summary(pairs) == [("Pager.__init__", "Pager.__init__", "other")]
    with_field = PAGER_V0.replace("class Pager:\n", "class Pager:\n    size = PAGE_SIZE\n\n")
    pairs = symbol_changes(PAGER_V0.encode(), with_field.encode(), "p.py", "python", "")
    assert summary(pairs) == [("Pager", "Pager", "other")]


def test_a_comment_only_fix_is_style_first() -> None:
    before = "def area(r):\n    # aera of a circle\n    return 3.14159 * r * r\n"
    after = "def area(r):\n    # area of a circle\n    return 3.14159 * r * r\n"
    (pair,) = symbol_changes(before.encode(), after.encode(), "a.py", "python", "Fix typo")
    assert (pair.change, pair.changes) == ("style", ["style", "bug_fix"])


def test_re_indentation_is_style_but_moving_a_line_out_of_a_block_is_not() -> None:
    before = "def f(xs):\n    for x in xs:\n        print(x)\n    return 1\n"
    wider = "def f(xs):\n        for x in xs:\n                print(x)\n        return 1\n"
    moved = "def f(xs):\n    for x in xs:\n        print(x)\n        return 1\n"
    (style,) = symbol_changes(before.encode(), wider.encode(), "f.py", "python", "")
    (other,) = symbol_changes(before.encode(), moved.encode(), "f.py", "python", "")
    assert (style.change, other.change) == ("style", "other")


def test_long_diffs_are_capped_at_a_line() -> None:
    before = "def big():\n" + "".join(f"    x{i} = {i}\n" for i in range(2000))
    after = "def big():\n" + "".join(f"    y{i} = {i}\n" for i in range(2000))
    (pair,) = symbol_changes(before.encode(), after.encode(), "b.py", "python", "")
    assert pair.diff.endswith(f"\n\\ diff cut at {MAX_DIFF_CHARS} characters")
    assert len(pair.diff) < MAX_DIFF_CHARS + 50
    assert pair.after == after.rstrip("\n")  # the texts themselves are never cut


def test_unchanged_file_and_added_symbols_give_no_pairs() -> None:
    added = PAGER_V0 + "\n\ndef first_page(items):\n    return fetch_page(items, 0)\n"
    assert symbol_changes(PAGER_V0.encode(), PAGER_V0.encode(), "p.py", "python", "Fix") == []
    assert symbol_changes(PAGER_V0.encode(), added.encode(), "p.py", "python", "Fix") == []


# --- other languages: rename matching, overloads, formatting --------------------------------------

GO = """package pager

// PageSize is the number of items on a page.
const PageSize = 10

type Pager struct {
	items []string
}

func fetchPage(items []string, page int) []string {
	start := page * PageSize
	end := start + PageSize
	if end > len(items) {
		end = len(items)
	}
	return items[start:end]
}

func (p *Pager) Page(n int) []string {
	return fetchPage(p.items, n)
}

func (p *Pager) Label(n int) string {
	return fmt.Sprintf("page %d of %d", n, len(p.items))
}
"""
GO_FORMATTED = """package pager

// PageSize is the number of items on a page.
const PageSize = 10

type Pager struct {
	items []string
}

func loadPage(items []string, page int) []string {
	start := page*PageSize
	end := start + PageSize // one past the last index
	if end > len(items) { end = len(items) }
	return items[start:end]
}

func (p *Pager) Page(n int) []string {
	return loadPage(p.items, n)
}

func (p *Pager) Label(n int) string {
	/* shown in the footer */
	return fmt.Sprintf(
		"page %d of %d",
		n,
		len(p.items),
	)
}
"""

JAVA = """package pager;

import java.util.List;

public class Pager {
    private final List<String> items;

    public Pager(List<String> items) {
        this.items = items;
    }

    public List<String> fetchPage(int page) {
        int start = page * 10;
        int end = Math.min(start + 10, items.size());
        return items.subList(start, end);
    }

    public int count() {
        return (items.size() + 9) / 10;
    }

    public int count(int size) {
        return (items.size() + size - 1) / size;
    }

    public String label(int n) {
        return "page " + n;
    }
}
"""
JAVA_FORMATTED = JAVA.replace(
    """        return "page " + n;""",
    """        // shown in the footer\n        return "page "\n            + n;""",
)

TYPESCRIPT = """export interface Page<T> {
  items: T[];
  number: number;
}

export function fetchPage<T>(items: T[], page: number): Page<T> {
  const start = page * 10;
  return { items: items.slice(start, start + 10), number: page };
}

export class Pager<T> {
  constructor(private readonly items: T[]) {}

  page(n: number): Page<T> {
    return fetchPage(this.items, n);
  }

  label(n: number): string {
    return "page " + String(n);
  }
}
"""
TYPESCRIPT_FORMATTED = TYPESCRIPT.replace(
    """  const start = page * 10;
  return { items: items.slice(start, start + 10), number: page };""",
    """  const start = page * 10
  // slice stops at the end of the list
  return {
    items: items.slice(start, start + 10),
    number: page,
  }""",
).replace("""return "page " + String(n);""", """return 'page ' + String(n)""")

JAVASCRIPT = """export function fetchPage(items, page) {
  const start = page * 10;
  return items.slice(start, start + 10);
}

export class Pager {
  constructor(items) {
    this.items = items;
  }

  page(n) {
    return fetchPage(this.items, n);
  }

  label(n) {
    return `page ${n}`;
  }
}
"""
JAVASCRIPT_FORMATTED = JAVASCRIPT.replace(
    "  return items.slice(start, start + 10);",
    "  return items.slice(\n    start,\n    start + 10,\n  )",
).replace("return `page ${n}`;", "/* footer */ return `page ${n}`")

RUST = """pub struct Pager {
    items: Vec<String>,
}

fn fetch_page<'a>(items: &'a [String], page: usize) -> &'a [String] {
    let start = page * 10;
    let end = (start + 10).min(items.len());
    &items[start..end]
}

impl Pager {
    pub fn page(&self, n: usize) -> &[String] {
        fetch_page(&self.items, n)
    }

    pub fn label(&self, n: usize) -> String {
        format!("page {} of {}", n, self.items.len())
    }
}
"""
RUST_FORMATTED = """pub struct Pager {
    items: Vec<String>,
}

fn fetch_page<'a>(items: &'a [String], page: usize) -> &'a [String] {
    // first index
    let start = page*10;
    let end = (start + 10).min(items.len());
    &items[start..end]
}

impl Pager {
    pub fn page(&self, n: usize) -> &[String] {
        fetch_page(&self.items, n)
    }

    pub fn label(&self, n: usize) -> String {
        format!(
            "page {} of {}",
            n,
            self.items.len(),
        )
    }
}
"""


@pytest.mark.parametrize(
    ("path", "source", "formatted", "old", "new", "caller", "restyled"),
    [
        ("pager/pager.go", GO, GO_FORMATTED, "fetchPage", "loadPage", "Pager.Page",
         ["loadPage", "Pager.Label"]),
        ("src/Pager.java", JAVA, JAVA_FORMATTED, "Pager.fetchPage", "Pager.loadPage",
         None, ["Pager.label"]),
        ("src/pager.ts", TYPESCRIPT, TYPESCRIPT_FORMATTED, "fetchPage", "loadPage",
         "Pager.page", ["loadPage", "Pager.label"]),
        ("src/pager.js", JAVASCRIPT, JAVASCRIPT_FORMATTED, "fetchPage", "loadPage",
         "Pager.page", ["loadPage", "Pager.label"]),
        ("src/pager.rs", RUST, RUST_FORMATTED, "fetch_page", "load_page", "Pager.page",
         ["load_page", "Pager.label"]),
    ],
)  # fmt: skip
def test_rename_then_reformat(
    tmp_path: Path,
    path: str,
    source: str,
    formatted: str,
    old: str,
    new: str,
    caller: str | None,
    restyled: list[str],
) -> None:
    repo = GitRepo(tmp_path / "repo")
    old_name, new_name = old.rsplit(".")[-1], new.rsplit(".")[-1]
    renamed = source.replace(old_name, new_name)
    repo.commit({path: source}, "Add a pager")
    rename = repo.commit({path: renamed}, f"Rename {old_name}")
    reformat = repo.commit({path: formatted.replace(old_name, new_name)}, "Format")

    rename_pairs = commit_pairs(repo, rename)
    expected = [(old, new, "rename")]
    if caller:
        expected.append((caller, caller, "other"))
    assert sorted(summary(rename_pairs)) == sorted(expected)

    style_pairs = commit_pairs(repo, reformat)
    assert sorted(summary(style_pairs)) == sorted((name, name, "style") for name in restyled)


def test_java_overloads_are_told_apart_and_a_guard_is_a_fix(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"Pager.java": JAVA}, "Add a pager")
    checked = JAVA.replace(
        "    public int count(int size) {\n",
        "    public int count(int size) {\n        if (size <= 0) {\n"
        '            throw new IllegalArgumentException("size must be positive");\n        }\n',
    )
    pairs = commit_pairs(repo, repo.commit({"Pager.java": checked}, "Check sizes"))
    (pair,) = pairs
    assert (pair.after_symbol, pair.changes) == ("Pager.count", ["bug_fix"])
    assert "int size" in pair.after and pair.after_start_line == 22


def test_go_signature_change_and_renamed_type_with_its_methods(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"pager.go": GO}, "Add a pager")
    sized = GO.replace(
        "func fetchPage(items []string, page int) []string {\n\tstart := page * PageSize\n"
        "\tend := start + PageSize",
        "func fetchPage(items []string, page, size int) []string {\n\tstart := page * size\n"
        "\tend := start + size",
    ).replace("fetchPage(p.items, n)", "fetchPage(p.items, n, PageSize)")
    pairs = commit_pairs(repo, repo.commit({"pager.go": sized}, "Take a size"))
    assert summary(pairs) == [
        ("fetchPage", "fetchPage", "signature_change"),
        ("Pager.Page", "Pager.Page", "other"),
    ]
    renamed_type = sized.replace("Pager", "Paginator")
    pairs = commit_pairs(repo, repo.commit({"pager.go": renamed_type}, "Name it Paginator"))
    assert summary(pairs) == [
        ("Pager", "Paginator", "rename"),
        ("Pager.Page", "Paginator.Page", "signature_change"),
        ("Pager.Label", "Paginator.Label", "signature_change"),
    ]


def test_rust_extract_function_with_a_perf_message(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"src/lib.rs": RUST}, "Add a pager")
    extracted = RUST.replace(
        "    let start = page * 10;\n    let end = (start + 10).min(items.len());\n"
        "    &items[start..end]\n",
        "    let (start, end) = bounds(page, items.len());\n    &items[start..end]\n",
    ) + (
        "\nfn bounds(page: usize, len: usize) -> (usize, usize) {\n"
        "    let start = page * 10;\n    (start, (start + 10).min(len))\n}\n"
    )
    (pair,) = commit_pairs(repo, repo.commit({"src/lib.rs": extracted}, "Avoid a bounds check"))
    assert (pair.after_symbol, pair.changes) == ("fetch_page", ["extract_function"])
    faster = extracted.replace('format!("page {} of {}", n, self.items.len())', "n.to_string()")
    (pair,) = commit_pairs(repo, repo.commit({"src/lib.rs": faster}, "Faster labels, O(1)"))
    assert (pair.after_symbol, pair.changes) == ("Pager.label", ["performance"])
