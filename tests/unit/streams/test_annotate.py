"""The annotate stage on real snippets in all six languages, field by field."""

import textwrap

import pytest

from streams.annotate import CATEGORIES, QUALITY_WEIGHTS, VOCABULARY, Annotations, annotate
from streams.extract import Symbol, extract_symbols
from streams.languages import language_for_path
from streams.technologies import technologies


def _symbol(path: str, code: str, name: str | None = None) -> tuple[Symbol, str]:
    """The symbol called ``name`` (the last one when None) of ``code`` at ``path``."""
    language = language_for_path(path)
    assert language is not None
    extraction = extract_symbols(textwrap.dedent(code).encode(), path, language.name)
    assert extraction.error is None
    symbols = {s.qualified_name: s for s in extraction.symbols}
    return (symbols[name] if name else extraction.symbols[-1]), language.name


def _annotate(path: str, code: str, name: str | None = None, **kwargs: bool) -> Annotations:
    symbol, language = _symbol(path, code, name)
    return annotate(symbol, language, path, symbol.imports, **kwargs)


PYTHON = '''\
import hashlib
import os

import requests
from flask import Flask
from sqlalchemy.orm import Session

from . import models


def verify_password(user: User, password: str) -> bool:
    """Check a password against the stored hash. Constant time, so no timing leaks.

    The hash is SHA-256 of the password.
    """
    digest = hashlib.sha256(password.encode()).hexdigest()
    return hmac.compare_digest(digest, user.password_hash)
'''


def test_every_field_of_a_python_function() -> None:
    annotations = _annotate("shop/auth/passwords.py", PYTHON, has_tests=True)
    assert annotations == Annotations(
        category="authentication",
        intent="Check a password against the stored hash.",
        # os and hashlib are the standard library, `from . import` is the project's own.
        technologies=["requests", "flask", "sqlalchemy"],
        patterns=[],
        cyclomatic=1,
        nesting_depth=0,
        lines=6,
        quality=1.0,
        quality_components={
            "documentation": 1.0,  # 15 words or more
            "size": 1.0,
            "complexity": 1.0,
            "naming": 1.0,
            "type_hints": 1.0,
            "tests": 1.0,
        },
    )
    assert list(Annotations.model_fields) == [
        "category",
        "intent",
        "technologies",
        "patterns",
        "cyclomatic",
        "nesting_depth",
        "lines",
        "quality",
        "quality_components",
    ]


GO = """\
package queue

import (
	"context"
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/acme/billing/ledger"
)

func drain(ctx context.Context, jobs chan Job, done func(Job)) error {
	for job := range jobs {
		if job == nil || ctx.Err() != nil {
			continue
		}
		go func(j Job) {
			if err := j.Run(ctx); err != nil {
				fmt.Println(err)
			}
			done(j)
		}(job)
	}
	return nil
}
"""


def test_every_field_of_a_go_function() -> None:
    annotations = _annotate("queue/worker.go", GO)
    assert annotations == Annotations(
        category="concurrency",  # worker (path), chan: `jobs chan Job` is no call, `go` is
        intent="Drain (function)",
        technologies=["gin", "github.com/acme/billing"],
        patterns=["async", "callback", "error-handling"],
        cyclomatic=5,  # for, if, ||, the goroutine's if
        nesting_depth=2,
        lines=14,
        quality=0.7,
        quality_components={
            "documentation": 0.0,
            "size": 1.0,
            "complexity": 1.0,
            "naming": 1.0,
            "type_hints": 1.0,  # a typed language
            "tests": 0.5,  # unknown
        },
    )


@pytest.mark.parametrize(
    ("path", "code", "name", "category"),
    [
        (
            "app/views.py",
            """\
            @app.route("/orders", methods=["POST"])
            def create_order():
                return jsonify(request.get_json())
            """,
            None,
            "api",
        ),
        (
            "app/repository.py",
            """\
            from sqlalchemy.orm import Session

            def find_user(session, email):
                return session.query(User).filter_by(email=email).first()
            """,
            None,
            "data-access",
        ),
        (
            "web/Button.tsx",
            "export const Button = ({ label }) => <button>{label}</button>;\n",
            None,
            "ui",
        ),
        (
            "pkg/util_test.go",
            'package pkg\n\nfunc TestTrim(t *testing.T) { Trim("a") }\n',
            None,
            "testing",
        ),
        (
            "deploy/cluster.py",
            """\
            def scale(replicas):
                kubectl("scale", replicas)
            """,
            None,
            "infra",
        ),
        (
            "tool/main.py",
            """\
            def main(argv):
                parser = argparse.ArgumentParser()
                return parser.parse_args(argv)
            """,
            None,
            "cli",
        ),
        (
            "src/Retry.java",
            """\
            class Retry {
              void retry() {
                try { run(); } catch (Exception e) { throw new RetryError(e); }
              }
            }
            """,
            "Retry.retry",
            "error-handling",
        ),
        (
            "src/codec.rs",
            "fn encode(v: &Value) -> String { serde_json::to_string(v).unwrap() }\n",
            None,
            "serialization",
        ),
        (
            "geo/shapes.js",
            "function distance(a, b) { return Math.sqrt((a.x - b.x) ** 2 + (a.y - b.y) ** 2); }\n",
            None,
            "math",
        ),
        (
            "app/export.py",
            """\
            def write_report(path, rows):
                with open(path, "w") as out:
                    out.write("\\n".join(rows))
            """,
            None,
            "io",
        ),
        (
            "app/events.py",
            "def note(event):\n    logger.info('seen %s', event)\n    logger.debug(event)\n",
            None,
            "logging",
        ),
        (
            "app/settings.py",
            "def load_settings():\n    return {key: os.getenv(key) for key in KEYS}\n",
            None,
            "config",
        ),
        (
            "app/crypto.py",
            "def seal(key, data):\n    return encrypt(key, data)\n",
            None,
            "security",
        ),
        (
            "src/text.rs",
            "fn reverse(s: &str) -> String { s.chars().rev().collect() }\n",
            None,
            "utility",
        ),
    ],
)
def test_category_by_weighted_keywords(
    path: str, code: str, name: str | None, category: str
) -> None:
    assert _annotate(path, code, name).category == category


def test_the_vocabulary_covers_every_category_but_utility() -> None:
    assert set(VOCABULARY) == set(CATEGORIES) - {"utility"}
    assert CATEGORIES[-1] == "utility"


@pytest.mark.parametrize(
    ("path", "code", "intent"),
    [
        ("a.py", 'def f():\n    """Parse the file. Then more."""\n', "Parse the file."),
        ("a.py", 'def f():\n    """Parse\n    the file\n\n    Details."""\n', "Parse the file"),
        ("a.py", "def parse_config_file(path):\n    pass\n", "Parse config file (function)"),
        ("a.ts", "function parseHTTPRequest(r: string) {}\n", "Parse HTTP request (function)"),
        (
            "a.js",
            "/**\n * @param {string} s\n */\nfunction trimAll(s) {}\n",
            "Trim all (function)",
        ),
        ("A.java", "/** Ships orders! Fast. */\nclass Shipper {}\n", "Ships orders!"),
        ("a.rs", "struct HttpClient;\n", "Http client (class)"),
        ("a.go", "package a\n\n// New makes a queue.\nfunc New() {}\n", "New makes a queue."),
    ],
)
def test_intent_is_the_first_sentence_or_the_name_in_words(
    path: str, code: str, intent: str
) -> None:
    assert _annotate(path, code).intent == intent


@pytest.mark.parametrize(
    ("language", "imports", "expected"),
    [
        (
            "python",
            [
                "import os, sys",
                "import numpy as np",
                "from sklearn.linear_model import LinearRegression",
                "from .local import thing",
                "from __future__ import annotations",
                "import numpy.linalg",
                "import acme_internal.billing",
            ],
            ["numpy", "scikit-learn", "acme_internal"],
        ),
        (
            "javascript",
            [
                'import React from "react";',
                'import { render } from "react-dom/client";',
                'import fs from "node:fs";',
                'import path from "path";',
                'import { Injectable } from "@nestjs/common";',
                'import "./styles.css";',
                'import debounce from "lodash/debounce";',
                'import { z } from "zodiac-lib";',
            ],
            ["react", "nestjs", "lodash", "zodiac-lib"],
        ),
        (
            "go",
            [
                'import (\n\t"fmt"\n\tlog "github.com/sirupsen/logrus"\n'
                '\t"k8s.io/client-go/kubernetes"\n)'
            ],
            ["logrus", "kubernetes"],
        ),
        (
            "java",
            [
                "import java.util.List;",
                "import org.springframework.web.bind.annotation.GetMapping;",
                "import static org.junit.jupiter.api.Assertions.assertEquals;",
                "import javax.persistence.Entity;",
                "import com.acme.billing.Ledger;",
                "import com.acme.billing.*;",
            ],
            ["spring", "junit", "jpa", "com.acme.billing"],
        ),
        (
            "rust",
            [
                "use std::collections::HashMap;",
                "use serde::{Deserialize, Serialize};",
                "use serde_json::Value;",
                "use crate::config::Config;",
                "use tokio::sync::mpsc;",
                "use ::anyhow::Result;",
            ],
            ["serde", "tokio", "anyhow"],
        ),
    ],
)
def test_technologies_from_imports(language: str, imports: list[str], expected: list[str]) -> None:
    assert technologies(language, imports) == expected


@pytest.mark.parametrize(
    ("path", "code", "name", "patterns"),
    [
        (
            "a.py",
            """\
            def logged(func):
                @functools.wraps(func)
                def wrapper(*args):
                    return func(*args)
                return wrapper
            """,
            "logged",
            ["decorator", "callback"],
        ),
        (
            "a.py",
            """\
            @contextlib.contextmanager
            def opened(path):
                f = open(path)
                try:
                    yield f
                finally:
                    f.close()
            """,
            None,
            ["context-manager", "generator"],
        ),
        ("a.py", "async def fetch(url):\n    return await get(url)\n", None, ["async"]),
        (
            "a.py",
            "def walk(node):\n    for child in node.children:\n        walk(child)\n",
            None,
            ["recursion"],
        ),
        ("a.py", "def create_user(name):\n    return User(name)\n", None, ["factory"]),
        (
            "a.py",
            """\
            class Config:
                _instance = None

                def __new__(cls):
                    if cls._instance is None:
                        cls._instance = super().__new__(cls)
                    return cls._instance
            """,
            "Config",
            ["singleton"],
        ),
        ("a.py", "@dataclass\nclass Point:\n    x: int\n", None, ["dataclass"]),
        ("a.py", "class Row(NamedTuple):\n    x: int\n", None, ["dataclass"]),
        (
            "a.py",
            "class A:\n    @property\n    def size(self) -> int:\n        return 1\n",
            "A.size",
            ["property"],
        ),
        (
            "a.py",
            "class Walker:\n    def __iter__(self):\n        return self\n",
            "Walker",
            ["iterator"],  # `return self` by the protocol is no builder
        ),
        (
            "a.py",
            "def on_done(callback: Callable[[int], None]) -> None:\n    callback(1)\n",
            None,
            ["callback"],
        ),
        (
            "a.py",
            "def load(p):\n    try:\n        return read(p)\n"
            "    except OSError:\n        return None\n",
            None,
            ["error-handling"],
        ),
        (
            "tests/test_a.py",
            "def test_load():\n    with pytest.raises(OSError):\n        load('x')\n",
            None,
            ["context-manager", "test"],
        ),
        ("a.py", "class V:\n    def visit_Name(self, node):\n        pass\n", "V", ["visitor"]),
        ("a.js", "function* ids() { yield 1; }\n", None, ["generator"]),
        ("a.js", "class A { get size() { return 1; } }\n", "A.size", ["property"]),
        (
            "a.ts",
            "class Query {\n  where(c: string): Query {\n"
            "    this.c = c;\n    return this;\n  }\n}\n",
            "Query.where",
            ["builder"],
        ),
        (
            "a.ts",
            "const onEach = (items: number[], fn: (n: number) => void) => items.forEach(fn);\n",
            None,
            ["callback"],
        ),
        (
            "a.js",
            "async function load() { try { await get(); } catch (e) { report(e); } }\n",
            None,
            ["async", "error-handling"],
        ),
        (
            "a.go",
            "package a\n\nfunc NewServer(addr string) (*Server, error) {\n"
            "\ts, err := listen(addr)\n\tif err != nil {\n\t\treturn nil, err\n\t}\n"
            "\treturn s, nil\n}\n",
            None,
            ["factory", "error-handling"],
        ),
        (
            "a.go",
            "package a\n\nfunc (b *Builder) Name(n string) *Builder {\n\tb.n = n\n\treturn b\n}\n",
            None,
            ["builder"],
        ),
        (
            "A.java",
            "class Pool implements AutoCloseable { public void close() {} }\n",
            "Pool",
            ["context-manager"],
        ),
        ("A.java", "public record Point(int x, int y) {}\n", None, ["dataclass"]),
        (
            "A.java",
            "class Reg {\n  private static final Reg INSTANCE = new Reg();\n"
            "  static Reg getInstance() { return INSTANCE; }\n}\n",
            "Reg.getInstance",
            ["singleton"],
        ),
        (
            "a.rs",
            "impl Req {\n    fn header(mut self, h: &str) -> Self {\n        self.h = h;\n"
            "        self\n    }\n}\n",
            None,
            ["builder"],
        ),
        (
            "a.rs",
            "fn read(p: &Path) -> Result<String, Error> { fs::read_to_string(p) }\n",
            None,
            ["error-handling"],
        ),
        ("a.rs", "#[derive(Debug, Clone)]\nstruct P { x: i32 }\n", None, ["dataclass"]),
        ("a.rs", "#[test]\nfn adds() { assert_eq!(add(1, 1), 2); }\n", None, ["test"]),
        ("a.py", "def add(a, b):\n    return a + b\n", None, []),
    ],
)
def test_patterns(path: str, code: str, name: str | None, patterns: list[str]) -> None:
    assert _annotate(path, code, name).patterns == patterns


def test_complexity_depth_and_lines_come_from_the_symbol() -> None:
    annotations = _annotate(
        "a.java",
        """\
        class A {
          int f(int[] xs) {

            int n = 0;
            for (int x : xs) {
              if (x > 0 && x < 10) {
                n += x > 5 ? 2 : 1;
              }
            }
            return n;
          }
        }
        """,
        "A.f",
    )
    # for, if, &&, ?: ; for > if; the blank line is not counted.
    assert (annotations.cyclomatic, annotations.nesting_depth, annotations.lines) == (5, 2, 9)


def _quality(path: str, code: str, name: str | None = None, **kwargs: bool) -> dict[str, float]:
    return _annotate(path, code, name, **kwargs).quality_components


def test_quality_is_the_weighted_mean_of_its_components() -> None:
    assert sum(QUALITY_WEIGHTS.values()) == pytest.approx(1.0)
    annotations = _annotate("a.py", "def f(x):\n    return x\n")
    components = annotations.quality_components
    assert set(components) == set(QUALITY_WEIGHTS)
    assert annotations.quality == pytest.approx(
        sum(QUALITY_WEIGHTS[k] * v for k, v in components.items()), abs=1e-4
    )
    assert all(0.0 <= v <= 1.0 for v in components.values())
    assert components == {
        "documentation": 0.5,  # undocumented, but only 2 lines
        "size": 0.6667,  # below the ideal 3 lines
        "complexity": 1.0,
        "naming": 0.5,  # `f` says nothing, though it is snake_case
        "type_hints": 0.0,
        "tests": 0.5,
    }


def test_quality_tests_component_follows_has_tests() -> None:
    code = "def parse(text: str) -> int:\n    return len(text)\n"
    assert _quality("a.py", code, has_tests=True)["tests"] == 1.0
    assert _quality("a.py", code, has_tests=False)["tests"] == 0.0
    assert _quality("a.py", code)["tests"] == 0.5


def test_quality_penalises_complexity_deep_nesting_and_size() -> None:
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(20))
    complex_ = _quality("a.py", f"def pick(x):\n{branches}\n")
    assert complex_["complexity"] == pytest.approx(1 - (21 - 10) / 20)
    assert complex_["size"] == pytest.approx(1 - (41 - 40) / 160, abs=1e-4)
    nested = (
        "def deep(a):\n"
        + "".join("    " * (i + 1) + f"for x{i} in a:\n" for i in range(6))
        + "    " * 7
        + "pass\n"
    )
    assert _quality("a.py", nested)["complexity"] == 0.5  # depth 6: two over 4


@pytest.mark.parametrize(
    ("path", "code", "name", "naming"),
    [
        ("a.py", "def parse_file(p): pass\n", None, 1.0),
        ("a.py", "def parseFile(p): pass\n", None, 0.5),
        ("a.py", "class http_client: pass\n", None, 0.5),
        ("a.py", "class A:\n    def __init__(self): pass\n", "A.__init__", 1.0),
        ("a.js", "function parseFile() {}\n", None, 1.0),
        ("a.js", "function parse_file() {}\n", None, 0.5),
        ("a.go", "package a\n\nfunc parse_file() {}\n", None, 0.5),
        ("a.go", "package a\n\nfunc ParseFile() {}\n", None, 1.0),
        ("A.java", "class Parser { Parser() {} void Parse() {} }\n", "Parser.Parser", 1.0),
        ("A.java", "class Parser { Parser() {} void Parse() {} }\n", "Parser.Parse", 0.5),
        ("a.rs", "fn parseFile() {}\n", None, 0.5),
        ("a.rs", "struct Tmp;\n", None, 0.5),
    ],
)
def test_naming_is_descriptive_and_follows_the_convention(
    path: str, code: str, name: str | None, naming: float
) -> None:
    assert _quality(path, code, name)["naming"] == naming


@pytest.mark.parametrize(
    ("path", "code", "name", "hints"),
    [
        ("a.py", "def f(self, a: int, b: dict[str, int] = {}, *c) -> None: pass\n", None, 0.75),
        ("a.py", "def f(a, b=g(1, 2)): pass\n", None, 0.0),
        ("a.py", "class A:\n    def f(self) -> int: ...\n    def g(self): ...\n", "A", 0.5),
        ("a.ts", "function f(a: number, cb: (x: number) => void): string {}\n", None, 1.0),
        ("a.ts", "const f = (a, b: string) => a;\n", None, 1 / 3),
        ("a.js", "/** @param {number} a */\nfunction f(a) {}\n", None, 1.0),
        ("a.js", "function f(a) {}\n", None, 0.0),
        ("a.go", "package a\n\nfunc f(a int) {}\n", None, 1.0),
        ("A.java", "class A { void f(int a) {} }\n", "A.f", 1.0),
        ("a.rs", "fn f(a: i32) {}\n", None, 1.0),
    ],
)
def test_type_hints(path: str, code: str, name: str | None, hints: float) -> None:
    assert _quality(path, code, name)["type_hints"] == pytest.approx(hints, abs=1e-4)


def test_documentation_grows_with_the_docstring() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(5))
    short = _quality("a.py", f'def f():\n    """Do it."""\n{body}\n')["documentation"]
    long = '"""' + " ".join(["word"] * 20) + '"""'
    full = _quality("a.py", f"def f():\n    {long}\n{body}\n")["documentation"]
    missing = _quality("a.py", f"def f():\n{body}\n")["documentation"]
    assert (missing, full) == (0.0, 1.0) and 0.6 < short < 1.0
