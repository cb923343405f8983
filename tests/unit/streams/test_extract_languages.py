"""Extraction beyond Python: JavaScript, TypeScript, TSX, Go, Java and Rust through one contract."""

import textwrap

import pytest

from streams.extract import Extraction, Symbol, extract_symbols
from streams.languages import language_for_path

# Each table row: qualified name -> (kind, enclosing class, first line, last line).
Outline = dict[str, tuple[str, str, int, int]]


def _extract(code: str, language: str, path: str = "example") -> Extraction:
    return extract_symbols(textwrap.dedent(code).encode(), path, language)


def _by_name(extraction: Extraction) -> dict[str, Symbol]:
    assert extraction.error is None
    names = [s.qualified_name for s in extraction.symbols]
    assert len(names) == len(set(names))
    return {s.qualified_name: s for s in extraction.symbols}


def _outline(symbols: dict[str, Symbol]) -> Outline:
    return {n: (s.kind, s.enclosing_class, s.start_line, s.end_line) for n, s in symbols.items()}


JAVASCRIPT = """\
import { readFile } from "node:fs/promises";
import * as path from "node:path";

/**
 * Load a config file.
 *
 * @param {string} name the file
 */
export async function loadConfig(name) {
  const parse = (text) => JSON.parse(text);
  return parse(await readFile(path.join(ROOT, name), "utf8"));
}

// Not JSDoc, so no doc.
function* ids() {
  yield 1;
}

/** Twice `x`. */
const double = (x) => x * 2;
let handler = function (event) {
  return event.type;
};
var a = () => 1, b = () => 2;
const settings = { retries: 3, load() { return 1; } };

/** A cache of parsed files. */
export class Cache extends Map {
  /** How many entries. */
  get size() {
    return super.size;
  }

  static create() {
    return new Cache();
  }

  async *entries() {}
}

export default function () {}
"""


def test_javascript_functions_classes_methods_docs_and_imports() -> None:
    symbols = _by_name(_extract(JAVASCRIPT, "javascript"))
    assert _outline(symbols) == {
        "loadConfig": ("function", "", 9, 12),
        "loadConfig.parse": ("function", "", 10, 10),
        "ids": ("function", "", 15, 17),
        "double": ("function", "", 20, 20),
        "handler": ("function", "", 21, 23),
        "Cache": ("class", "", 28, 39),
        "Cache.size": ("method", "Cache", 30, 32),
        "Cache.create": ("method", "Cache", 34, 36),
        "Cache.entries": ("method", "Cache", 38, 38),
    }
    assert {n: s.signature for n, s in symbols.items()} == {
        "loadConfig": "async function loadConfig(name)",
        "loadConfig.parse": "const parse = (text) =>",
        "ids": "function* ids()",
        "double": "const double = (x) =>",
        "handler": "let handler = function (event)",
        "Cache": "class Cache extends Map",
        "Cache.size": "get size()",
        "Cache.create": "static create()",
        "Cache.entries": "async *entries()",
    }
    assert {n: s.docstring for n, s in symbols.items() if s.docstring} == {
        "loadConfig": "Load a config file.\n\n@param {string} name the file",
        "double": "Twice `x`.",
        "Cache": "A cache of parsed files.",
        "Cache.size": "How many entries.",
    }
    load = symbols["loadConfig"]
    assert load.body.startswith("export async function loadConfig(name) {\n")
    assert load.body.endswith('"utf8"));\n}')
    assert symbols["double"].body == "const double = (x) => x * 2;"
    assert load.imports == [
        'import { readFile } from "node:fs/promises";',
        'import * as path from "node:path";',
    ]
    assert load.context.startswith("import { readFile }") and load.context.endswith(" */")


JSX = """\
import React from "react";

export const Button = ({ label, onClick }) => (
  <button className="btn" onClick={onClick}>
    {label}
  </button>
);

export class Panel extends React.Component {
  render() {
    return <div>{this.props.children}</div>;
  }
}
"""


def test_jsx_is_javascript() -> None:
    extraction = extract_symbols(JSX.encode(), "ui/Button.jsx", "javascript")
    assert _outline(_by_name(extraction)) == {
        "Button": ("function", "", 3, 7),
        "Panel": ("class", "", 9, 13),
        "Panel.render": ("method", "Panel", 10, 12),
    }


TYPESCRIPT = """\
import type { Request } from "./http";
import fs = require("fs");

/** Something with an area. */
export interface Shape<T> extends Base {
  area(): number;
}

export type Id = string;

export enum Color {
  Red,
  Green,
}

export function parse(text: string): number;
export function parse(text: unknown): number {
  return Number(text);
}

export abstract class Base<T> implements Shape<T> {
  constructor(private readonly name: string) {}

  abstract area(): number;

  describe(prefix: string): string;
  describe(prefix?: string): string {
    return `${prefix}${this.name}`;
  }

  /** Cached. */
  @memoize()
  @trace
  protected static async load<U>(req: Request): Promise<U> {
    return fetchIt<U>(req);
  }
}

export const handle = async <T,>(req: Request): Promise<T> => {
  return Base.load<T>(req);
};
"""


def test_typescript_adds_interfaces_enums_and_abstract_classes() -> None:
    symbols = _by_name(_extract(TYPESCRIPT, "typescript"))
    assert _outline(symbols) == {
        "Shape": ("class", "", 5, 7),
        "Color": ("class", "", 11, 14),
        "parse": ("function", "", 17, 19),
        "Base": ("class", "", 21, 37),
        "Base.constructor": ("method", "Base", 22, 22),
        "Base.describe": ("method", "Base", 27, 29),
        "Base.load": ("method", "Base", 32, 36),
        "handle": ("function", "", 39, 41),
    }
    assert {n: s.signature for n, s in symbols.items()} == {
        "Shape": "interface Shape<T> extends Base",
        "Color": "enum Color",
        "parse": "function parse(text: unknown): number",
        "Base": "abstract class Base<T> implements Shape<T>",
        "Base.constructor": "constructor(private readonly name: string)",
        "Base.describe": "describe(prefix?: string): string",
        "Base.load": "protected static async load<U>(req: Request): Promise<U>",
        "handle": "const handle = async <T,>(req: Request): Promise<T> =>",
    }
    assert symbols["Shape"].docstring == "Something with an area."
    load = symbols["Base.load"]
    assert load.docstring == "Cached."
    assert load.body.startswith("@memoize()\n  @trace\n  protected static async load<U>(")
    assert symbols["Shape"].body.startswith("export interface Shape<T>")
    assert load.imports == ['import type { Request } from "./http";', 'import fs = require("fs");']


TSX = """\
import { useState } from "react";

interface Props {
  start: number;
}

/** A counter. */
export function Counter({ start }: Props): JSX.Element {
  const [n, setN] = useState<number>(start);
  const bump = (): void => setN(n + 1);
  return <button onClick={bump}>{n}</button>;
}
"""


def test_tsx_is_typescript_with_jsx() -> None:
    symbols = _by_name(extract_symbols(TSX.encode(), "web/Counter.tsx", "tsx"))
    assert _outline(symbols) == {
        "Props": ("class", "", 3, 5),
        "Counter": ("function", "", 8, 12),
        "Counter.bump": ("function", "", 10, 10),
    }
    counter = symbols["Counter"]
    assert counter.signature == "function Counter({ start }: Props): JSX.Element"
    assert counter.docstring == "A counter."
    assert counter.imports == ['import { useState } from "react";']
    # The same source is no TypeScript: `<button>` is a type assertion there.
    assert extract_symbols(TSX.encode(), "Counter.ts", "typescript").error is not None


GO = """\
package shapes

import "math"

import (
	"fmt"
	str "strings"
)

// Licence header, a blank line away: no doc.

// Point is a point in the plane.
// It is comparable.
type Point struct {
	X, Y float64
}

type (
	// Shape has an area.
	Shape interface {
		Area() float64
	}
	ID    int
	Alias = Point
)

// Dist is the distance to q.
func (p *Point) Dist(q Point) (float64, error) {
	return math.Hypot(q.X-p.X, q.Y-p.Y), nil
}

func (Point) String() string { return fmt.Sprint("point") }

func (s *Stack[T]) Push(v T) {
	s.items = append(s.items, v)
}

// Map applies f.
func Map[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}
"""


def test_go_methods_belong_to_their_receiver_type() -> None:
    symbols = _by_name(_extract(GO, "go"))
    assert _outline(symbols) == {
        "Point": ("class", "", 14, 16),
        "Shape": ("class", "", 20, 22),
        "Point.Dist": ("method", "Point", 28, 30),
        "Point.String": ("method", "Point", 32, 32),
        "Stack.Push": ("method", "Stack", 34, 36),
        "Map": ("function", "", 39, 45),
    }
    assert {n: s.signature for n, s in symbols.items()} == {
        "Point": "type Point struct",
        "Shape": "Shape interface",
        "Point.Dist": "func (p *Point) Dist(q Point) (float64, error)",
        "Point.String": "func (Point) String() string",
        "Stack.Push": "func (s *Stack[T]) Push(v T)",
        "Map": "func Map[T, U any](xs []T, f func(T) U) []U",
    }
    assert {n: s.docstring for n, s in symbols.items() if s.docstring} == {
        "Point": "Point is a point in the plane.\nIt is comparable.",
        "Shape": "Shape has an area.",
        "Point.Dist": "Dist is the distance to q.",
        "Map": "Map applies f.",
    }
    assert symbols["Point.Dist"].name == "Dist"
    assert symbols["Point"].body == "type Point struct {\n\tX, Y float64\n}"
    assert symbols["Map"].imports == ['import "math"', 'import (\n\t"fmt"\n\tstr "strings"\n)']


JAVA = """\
package com.acme.shapes;

import java.util.List;
import static java.lang.Math.max;

/**
 * A shape.
 *
 * <p>Immutable.
 */
@Deprecated
public abstract class Shape<T> extends Base implements Ordered<T> {
    /** Make one. */
    public Shape(int sides) {
        super();
    }

    @Override
    public int compareTo(T other) throws Exception {
        return 0;
    }

    abstract double area();

    interface Visitor {
        void visit(Shape<?> s);

        default void visitAll(List<Shape<?>> all) {}
    }

    enum Kind {
        ROUND, SQUARE;

        int corners() { return this == ROUND ? 0 : 4; }
    }

    record Size(int w, int h) {
        Size {
            max(w, h);
        }
    }
}
"""


def test_java_types_methods_and_constructors() -> None:
    symbols = _by_name(_extract(JAVA, "java", "Shape.java"))
    assert _outline(symbols) == {
        "Shape": ("class", "", 11, 42),
        "Shape.Shape": ("method", "Shape", 14, 16),
        "Shape.compareTo": ("method", "Shape", 18, 21),
        "Shape.Visitor": ("class", "Shape", 25, 29),
        "Shape.Visitor.visitAll": ("method", "Shape.Visitor", 28, 28),
        "Shape.Kind": ("class", "Shape", 31, 35),
        "Shape.Kind.corners": ("method", "Shape.Kind", 34, 34),
        "Shape.Size": ("class", "Shape", 37, 41),
        "Shape.Size.Size": ("method", "Shape.Size", 38, 40),
    }
    assert {n: s.signature for n, s in symbols.items()} == {
        # Annotations are modifiers in Java's grammar, so they open the signature.
        "Shape": "@Deprecated\npublic abstract class Shape<T> extends Base implements Ordered<T>",
        "Shape.Shape": "public Shape(int sides)",
        "Shape.compareTo": "@Override\n    public int compareTo(T other) throws Exception",
        "Shape.Visitor": "interface Visitor",
        "Shape.Visitor.visitAll": "default void visitAll(List<Shape<?>> all)",
        "Shape.Kind": "enum Kind",
        "Shape.Kind.corners": "int corners()",
        "Shape.Size": "record Size(int w, int h)",
        "Shape.Size.Size": "Size",
    }
    assert {n: s.docstring for n, s in symbols.items() if s.docstring} == {
        "Shape": "A shape.\n\n<p>Immutable.",
        "Shape.Shape": "Make one.",
    }
    assert symbols["Shape"].imports == [
        "import java.util.List;",
        "import static java.lang.Math.max;",
    ]


RUST = """\
use std::fmt;
use crate::geometry::{Area, Scale};

/// A point in the plane.
///
/// Copyable.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    x: f64,
    y: f64,
}

/** Which way. */
pub enum Direction {
    Up,
    Down,
}

pub struct Meters(f64);

pub trait Shape {
    fn area(&self) -> f64;

    /// The name, by default "shape".
    fn name(&self) -> String {
        String::from("shape")
    }
}

impl Point {
    /// The origin.
    #[must_use]
    pub const fn origin() -> Self {
        Self { x: 0.0, y: 0.0 }
    }
}

impl<T: Copy> fmt::Display for Wrapper<T>
where
    T: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

// A plain comment is no doc.
pub fn distance(a: &Point, b: &Point) -> f64 {
    fn square(v: f64) -> f64 {
        v * v
    }
    (square(a.x - b.x) + square(a.y - b.y)).sqrt()
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_is_zero() {
        assert_eq!(super::Point::origin().x, 0.0);
    }
}
"""


def test_rust_items_impls_traits_attributes_and_docs() -> None:
    symbols = _by_name(_extract(RUST, "rust"))
    assert _outline(symbols) == {
        "Point": ("class", "", 7, 11),
        "Direction": ("class", "", 14, 17),
        "Meters": ("class", "", 19, 19),
        "Shape": ("class", "", 21, 28),
        "Shape.name": ("method", "Shape", 25, 27),
        "Point.origin": ("method", "Point", 32, 35),
        "Wrapper.fmt": ("method", "Wrapper", 42, 44),
        "distance": ("function", "", 48, 53),
        "distance.square": ("function", "", 49, 51),
        "origin_is_zero": ("function", "", 57, 60),
    }
    assert {n: s.signature for n, s in symbols.items()} == {
        "Point": "pub struct Point",
        "Direction": "pub enum Direction",
        "Meters": "pub struct Meters(f64);",
        "Shape": "pub trait Shape",
        "Shape.name": "fn name(&self) -> String",
        "Point.origin": "pub const fn origin() -> Self",
        "Wrapper.fmt": "fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result",
        "distance": "pub fn distance(a: &Point, b: &Point) -> f64",
        "distance.square": "fn square(v: f64) -> f64",
        "origin_is_zero": "fn origin_is_zero()",
    }
    assert {n: s.docstring for n, s in symbols.items() if s.docstring} == {
        "Point": "A point in the plane.\n\nCopyable.",
        "Direction": "Which way.",
        "Shape.name": 'The name, by default "shape".',
        "Point.origin": "The origin.",
    }
    point = symbols["Point"]
    assert point.body.startswith("#[derive(Debug, Clone, Copy)]\npub struct Point {")
    assert point.context.endswith("/// Copyable.")
    assert symbols["Point.origin"].body.startswith("#[must_use]\n    pub const fn origin()")
    assert point.imports == ["use std::fmt;", "use crate::geometry::{Area, Scale};"]


def test_a_method_of_a_local_type_is_nested_in_its_function() -> None:
    symbols = _by_name(
        _extract("fn outer() {\n    struct L;\n    impl L {\n        fn m() {}\n    }\n}\n", "rust")
    )
    assert _outline(symbols) == {
        "outer": ("function", "", 1, 6),
        "outer.L": ("class", "", 2, 2),
        "outer.L.m": ("method", "outer.L", 4, 4),
    }


def test_an_impl_for_an_unnamed_type_keeps_the_type_text() -> None:
    symbols = _by_name(_extract("impl<'a> Area for &'a [u8] {\n    fn area(&self) {}\n}\n", "rust"))
    assert _outline(symbols) == {"&'a [u8].area": ("method", "&'a [u8]", 2, 2)}


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("javascript", "/** Doc. */\n\nfunction f() {}\n"),
        ("javascript", "let x = 1; /** Trailing. */\nfunction f() {}\n"),
        ("go", "package p\n\n// Doc.\n\nfunc f() {}\n"),
        ("go", "package p\n\nvar x = 1 // trailing\nfunc f() {}\n"),
        ("java", "class A {\n    /* Not Javadoc. */\n    void f() {}\n}\n"),
        ("rust", "/// Doc.\n\nfn f() {}\n"),
        ("rust", "//// Four slashes are no doc.\nfn f() {}\n"),
    ],
)
def test_comments_not_right_above_a_definition_are_no_doc(language: str, code: str) -> None:
    (symbol,) = [s for s in _extract(code, language).symbols if s.name == "f"]
    assert symbol.docstring == ""


@pytest.mark.parametrize(
    ("language", "code", "where"),
    [
        ("javascript", "function ok() {}\n\nfunction broken( {\n}\n", "line 3,"),
        ("typescript", "class A {\n  m(): number { return 1 }\n  n(: void {}\n}\n", "line 3,"),
        ("tsx", "const f = () => <div>;\n", "line 1,"),
        ("go", "package p\n\nfunc ok() {}\n\nfunc broken( {\n}\n", "line 5,"),
        ("java", "class A {\n    void ok() {}\n    void broken( {}\n}\n", "line 3,"),
        ("rust", "fn ok() {}\n\nfn broken( {}\n", "line 3,"),
    ],
)
def test_a_syntax_error_yields_its_location_and_no_symbols(
    language: str, code: str, where: str
) -> None:
    extraction = _extract(code, language)
    assert extraction.symbols == []
    assert extraction.error is not None
    assert extraction.error.startswith(f"syntax error at {where} column ")


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/app.js", "javascript"),
        ("lib/index.mjs", "javascript"),
        ("config.cjs", "javascript"),
        ("ui/Button.jsx", "javascript"),
        ("src/api.ts", "typescript"),
        ("src/api.mts", "typescript"),
        ("src/api.cts", "typescript"),
        ("types/index.d.ts", "typescript"),
        ("ui/Counter.tsx", "tsx"),
        ("UI/COUNTER.TSX", "tsx"),
        ("cmd/server/main.go", "go"),
        ("src/main/java/com/acme/Shape.java", "java"),
        ("src/lib.rs", "rust"),
    ],
)
def test_files_are_routed_to_their_language(path: str, language: str) -> None:
    spec = language_for_path(path)
    assert spec is not None and spec.name == language
