"""The naming, fill-in-the-middle and architecture stages on real definitions."""

import pytest

from streams.architecture import module_design, readme_sections, sections_about, skeleton
from streams.extract import extract_symbols
from streams.fim import fim_spans
from streams.naming import MASK, concept, convention, is_informative, mask_name

PY = b'''"""Invoice totals for the billing service."""

import decimal


class Invoice:
    """An invoice with its lines; totals are exact decimals."""

    def __init__(self, lines):
        self.lines = lines

    def total_amount(self):
        """Sum of the lines, tax included."""
        total = decimal.Decimal(0)
        for line in self.lines:
            total += line.price * line.quantity
        return total


def parse_invoice(text):
    return Invoice([line for line in text.splitlines() if line])
'''


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("parse_invoice", "snake_case"),
        ("_private_helper", "snake_case"),
        ("parseInvoice", "camelCase"),
        ("InvoiceParser", "PascalCase"),
        ("HTTPServer", "PascalCase"),
        ("MAX_RETRIES", "UPPER_CASE"),
        ("total", "lowercase"),
        ("weird__Name", "other"),
    ],
)
def test_convention(name: str, expected: str) -> None:
    assert convention(name) == expected


def test_mask_name_masks_whole_words_only() -> None:
    text = "def fib(n):\n    return fib(n - 1) + fib_cache[n] + $fib"
    assert (
        mask_name(text, "fib") == f"def {MASK}(n):\n    return {MASK}(n - 1) + fib_cache[n] + $fib"
    )


def test_concept_masks_the_name_in_docstring_and_body() -> None:
    body = "func parseInvoice(s string) Invoice {\n\treturn Invoice{}\n}"
    got = concept("parseInvoice", "parseInvoice reads an invoice.", body)
    assert got is not None and "parseInvoice" not in got
    assert got.startswith(f"{MASK} reads an invoice.\nfunc {MASK}(s string)")
    assert concept("__init__", "", "def __init__(self): pass") is None
    assert not is_informative("x") and not is_informative("main")


def test_fim_spans_lie_inside_the_body_after_the_signature() -> None:
    symbols = extract_symbols(PY, "billing/invoice.py", "python").symbols
    for symbol in symbols:
        for seed in range(40):
            spans = fim_spans(symbol.body, symbol.signature, seed)
            for start, end in spans:
                assert len(symbol.signature) <= start < end <= len(symbol.body)
                assert symbol.body[start:end].strip()
    method = next(s for s in symbols if s.name == "total_amount")
    assert fim_spans(method.body, method.signature, 7) == fim_spans(
        method.body, method.signature, 7
    )
    # Consecutive seeds (an example's variants) still pick middles all over the body.
    middles = {tuple(fim_spans(method.body, method.signature, seed)[0]) for seed in range(40)}
    assert len(middles) >= 5
    assert fim_spans("def f(): pass", "def f():", 7) == []


README = """# billing

Tools for invoices.

## invoice

The `invoice` module parses invoices and computes totals.

## shipping

Nothing about the other module.
"""


def test_readme_sections_and_the_ones_about_a_module() -> None:
    sections = readme_sections(README)
    assert [s.splitlines()[0] for s in sections] == ["# billing", "## invoice", "## shipping"]
    about = sections_about("billing/invoice.py", sections)
    assert len(about) == 1 and about[0].startswith("## invoice")


def test_module_design_pairs_docstrings_and_readme_with_the_skeleton() -> None:
    extraction = extract_symbols(PY, "billing/invoice.py", "python")
    design = module_design(
        "billing/invoice.py",
        extraction.module_docstring,
        extraction.symbols,
        readme_sections(README),
    )
    assert design is not None and design.symbols == 4
    assert design.requirements.startswith("Invoice totals for the billing service.")
    assert "Invoice: An invoice with its lines" in design.requirements
    assert "The `invoice` module parses invoices" in design.requirements
    assert design.design == skeleton(extraction.symbols)
    assert design.design.splitlines() == [
        "class Invoice:",
        "    def __init__(self, lines):",
        "    def total_amount(self):",
        "def parse_invoice(text):",
    ]
    # Nothing that says what the module is for: no example.
    bare = extract_symbols(b"def a():\n    pass\n\n\ndef b():\n    pass\n", "m.py", "python")
    assert module_design("m.py", bare.module_docstring, bare.symbols) is None
