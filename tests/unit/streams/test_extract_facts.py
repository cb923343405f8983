"""Body facts, decorators, columns, module docs and idioms, in all six languages."""

import textwrap

import pytest

from streams.body_facts import BodyFacts, body_facts
from streams.extract import Extraction, Symbol, extract_symbols

# qualified name -> (start_column, branches, max_depth, calls, decorators)
Facts = dict[str, tuple[int, int, int, list[str], list[str]]]


def _extract(code: str, language: str, path: str = "example") -> Extraction:
    extraction = extract_symbols(textwrap.dedent(code).encode(), path, language)
    assert extraction.error is None
    return extraction


def _facts(extraction: Extraction) -> Facts:
    return {
        s.qualified_name: (s.start_column, s.branches, s.max_depth, s.calls, s.decorators)
        for s in extraction.symbols
    }


def _one(code: str, language: str) -> Symbol:
    (symbol,) = _extract(code, language).symbols
    return symbol


PYTHON = '''\
#!/usr/bin/env python
"""Billing helpers.

Charges and refunds.
"""
import functools
from dataclasses import dataclass

__all__ = ["charge"]


@dataclass(frozen=True)
class Invoice:
    total: int

    @property
    def due(self) -> bool:
        return self.total > 0 and not self.paid


def charge(invoice, cards):
    for card in cards:
        if card.valid() and card.funds >= invoice.total:
            try:
                card.debit(invoice.total)
            except IOError:
                log.warning("retry")
            else:
                return card
        elif card.expired:
            continue
    return None if cards else fallback(invoice)


def outer(items):
    def inner(x):
        return [y for y in x if y]

    while items:
        inner(items.pop())


@app.route("/pay")
@functools.cache
def view():
    match request.method:
        case "GET":
            return render()
        case _:
            return abort(405)


if __name__ == "__main__":
    charge(Invoice(1), [])
'''


def test_python_facts() -> None:
    extraction = _extract(PYTHON, "python")
    assert _facts(extraction) == {
        # A class sums its methods: `and` in `due`.
        "Invoice": (0, 1, 0, [], ["dataclass(frozen=True)"]),
        "Invoice.due": (4, 1, 0, [], ["property"]),
        # for, if, and, except, elif, `x if c else y`; for > if > try.
        "charge": (0, 6, 3, ["valid", "debit", "warning", "fallback"], []),
        # The nested function's comprehension `for` and `if` count for both.
        "outer": (0, 3, 1, ["inner", "pop"], []),
        "outer.inner": (4, 2, 0, [], []),
        # Two case arms inside one match; the decorators' calls are not the body's.
        "view": (0, 2, 1, ["render", "abort"], ['app.route("/pay")', "functools.cache"]),
    }
    assert extraction.module_docstring == "Billing helpers.\n\nCharges and refunds."
    assert extraction.idioms == ["dataclass", "dunder_all", "main_guard", "type_hints"]


def test_python_idioms_async_context_managers_and_their_absence() -> None:
    extraction = _extract(
        """\
        import contextlib

        @contextlib.asynccontextmanager
        async def opened(path):
            yield path

        class Session:
            def __enter__(self):
                return self
        """,
        "python",
    )
    assert extraction.idioms == ["async", "context_manager"]
    assert extraction.module_docstring == ""
    assert _extract("x = 1\n", "python").idioms == []


def test_a_module_docstring_must_be_the_first_statement_and_no_licence() -> None:
    assert _extract('import os\n"""Not a docstring."""\n', "python").module_docstring == ""
    licence = '"""Copyright 2024 Acme. Licensed under the Apache License."""\n'
    assert _extract(licence, "python").module_docstring == ""
    assert _extract('# coding: utf-8\n"""Doc."""\n', "python").module_docstring == "Doc."


def test_start_column_counts_characters_and_keeps_decorators() -> None:
    method = _extract(
        """\
        class A:
            @staticmethod
            def f():
                pass
        """,
        "python",
    ).symbols[1]
    assert (method.start_column, method.body.splitlines()[0]) == (4, "@staticmethod")
    wide = _one("/* é */ function f() {}\n", "javascript")
    assert wide.start_column == len("/* é */ ") == 8


JAVASCRIPT = """\
/**
 * @file Cart helpers.
 */
import { readFile } from "node:fs/promises";

/** Total of a cart. */
export async function total(cart, discount) {
  let sum = 0;
  for (const item of cart.items) {
    if (item.price > 0 && !item.free) {
      sum += item.price * (item.qty ?? 1);
    } else if (item.coupon) {
      switch (item.coupon.kind) {
        case "pct":
          sum -= percent(sum, item.coupon.value);
          break;
        default:
          break;
      }
    }
  }
  try {
    await readFile("rates.json");
  } catch (err) {
    console.error(err);
  }
  return discount ? applyDiscount(sum, discount) : sum;
}

@sealed
class Cart {
  @memo
  count() {
    return this.items.length || 0;
  }
}

export default Cart;
"""


def test_javascript_facts() -> None:
    extraction = _extract(JAVASCRIPT, "javascript")
    assert _facts(extraction) == {
        # for, if, &&, ??, else if, one case (not default), catch, ?:; the else-if's switch is
        # at the level of its if: for > if > switch.
        "total": (0, 8, 3, ["percent", "readFile", "error", "applyDiscount"], []),
        "Cart": (0, 1, 0, [], ["sealed"]),
        "Cart.count": (2, 1, 0, [], ["memo"]),
    }
    assert extraction.module_docstring == "Cart helpers."
    assert extraction.idioms == ["async_await", "decorators", "export_default"]


def test_else_if_chains_add_no_depth_but_nested_ifs_do() -> None:
    chained = "function f(a, b, c) { if (a) {} else if (b) {} else if (c) { if (a) {} } }\n"
    assert (_one(chained, "javascript").branches, _one(chained, "javascript").max_depth) == (4, 2)
    nested = "func f(a, b bool) {\n\tif a {\n\t\tif b {\n\t\t}\n\t} else if b {\n\t}\n}\n"
    assert _one("package p\n" + nested, "go").max_depth == 2


TSX = """\
import React, { useState } from "react";

export function Counter({ start }: { start: number }): JSX.Element {
  const [count, setCount] = useState(start);
  const label = count > 9 ? "many" : String(count);
  return <button onClick={() => setCount(count + 1)}>{label}</button>;
}

@Component({ selector: "app-cart" })
export class CartView {
  @Input() items: string[] = [];

  @HostListener("click")
  onClick(): Promise<void> {
    return fetch("/cart").then((r) => this.render(r));
  }
}
"""


def test_typescript_and_tsx_facts() -> None:
    extraction = _extract(TSX, "tsx")
    assert _facts(extraction) == {
        "Counter": (0, 1, 0, ["useState", "String", "setCount"], []),
        # A class's text holds its members' decorators, so their calls are the class's.
        "CartView": (
            0,
            0,
            0,
            ["Input", "HostListener", "fetch", "then", "render"],
            ['Component({ selector: "app-cart" })'],
        ),
        "CartView.onClick": (2, 0, 0, ["fetch", "then", "render"], ['HostListener("click")']),
    }
    # `then` and `use…` calls are known by name; JSX only where the grammar parses it.
    assert extraction.idioms == ["decorators", "jsx", "promise", "react_hook"]
    plain = _extract(
        TSX.replace("<button onClick={() => setCount(count + 1)}>{label}</button>", "label"),
        "typescript",
    )
    assert plain.idioms == ["decorators", "promise", "react_hook"]


GO = """\
// Copyright 2024 The Authors.

// Package queue runs jobs.
package queue

import (
	"context"
	"sync"
)

func init() {
	registry = map[string]Job{}
}

// Run drains the queue.
func (q *Queue) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for job := range q.jobs {
		if job == nil || q.closed {
			continue
		} else if job.Urgent() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case q.out <- job:
			default:
				q.retry(job)
			}
		}
		wg.Add(1)
		go func(j Job) {
			defer wg.Done()
			if err := j.Do(ctx); err != nil {
				log.Printf("job: %v", err)
			}
		}(job)
	}
	return nil
}

type Queue struct {
	jobs chan Job
}

func Map[T any](xs []T, f func(T) T) []T {
	return Apply[T](xs, f)
}
"""


def test_go_facts() -> None:
    extraction = _extract(GO, "go")
    assert _facts(extraction) == {
        "init": (0, 0, 0, [], []),
        # for, if, ||, else if, two select cases (not default), the goroutine's if.
        "Queue.Run": (
            0,
            7,
            3,
            ["Wait", "Urgent", "Done", "Err", "retry", "Add", "Do", "Printf"],
            [],
        ),
        "Queue": (0, 0, 0, [], []),
        "Map": (0, 0, 0, ["Apply"], []),  # a generic call, which the grammar reads as a conversion
    }
    # The licence a blank line above is no package doc.
    assert extraction.module_docstring == "Package queue runs jobs."
    assert extraction.idioms == ["channel", "defer", "generics", "goroutine", "init_func", "select"]


JAVA = """\
/** Order services. */
package shop.orders;

import java.util.List;
import org.springframework.stereotype.Service;

@Service
public class Orders {
  /** Ships every paid order. */
  @Transactional
  public int ship(List<Order> orders) {
    int shipped = 0;
    for (Order o : orders) {
      if (o.paid() && !o.held()) {
        try (var label = printer.open()) {
          label.print(new Label(o));
          shipped++;
        } catch (IOException e) {
          log.warn("label", e);
        }
      } else if (o.cancelled()) {
        continue;
      }
    }
    return orders.stream().filter(Order::paid).count() > 0 ? shipped : -1;
  }

  public record Line(String sku, int qty) {}
}
"""


def test_java_facts() -> None:
    extraction = _extract(JAVA, "java")
    calls = ["paid", "held", "open", "print", "Label", "warn", "cancelled", "stream", "filter"]
    assert _facts(extraction) == {
        # for, if, &&, catch, else if, ?:; for > if > try-with-resources.
        "Orders": (0, 6, 3, [*calls, "count"], ["Service"]),
        "Orders.ship": (2, 6, 3, [*calls, "count"], ["Transactional"]),
        "Orders.Line": (2, 0, 0, [], []),
    }
    assert extraction.module_docstring == "Order services."
    assert extraction.idioms == ["annotations", "record", "streams", "try_with_resources"]


RUST = """\
//! Config parsing.

use serde::Deserialize;
use std::str::FromStr;

/// A parsed config.
#[derive(Debug, Deserialize)]
pub struct Config {
    name: String,
}

impl FromStr for Config {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let line = text.lines().next().ok_or("empty")?;
        match line.split_once('=') {
            Some((key, value)) if key == "name" => Ok(Config { name: value.into() }),
            Some(_) | None => Err(format!("bad line: {}", line)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_name() {
        assert_eq!(Config::from_str("name=x").unwrap().name, "x");
    }
}
"""


def test_rust_facts() -> None:
    extraction = _extract(RUST, "rust")
    assert _facts(extraction) == {
        "Config": (0, 0, 0, [], ["derive(Debug, Deserialize)"]),
        # Two match arms; `?` is no branch. Calls inside a macro's arguments are seen.
        "Config.from_str": (
            4,
            2,
            1,
            ["lines", "next", "ok_or", "split_once", "Ok", "into", "Err"],
            [],
        ),
        "parses_a_name": (4, 0, 0, ["from_str", "unwrap"], ["test"]),
    }
    assert extraction.module_docstring == "Config parsing."
    assert extraction.idioms == ["derive", "impl_trait", "tests_module", "try_operator"]


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("def f():\n    return 1\n", "python"),
        ("function f() { return 1; }\n", "javascript"),
        ("package p\n\nfunc f() int { return 1 }\n", "go"),
        ("class A { int f() { return 1; } }\n", "java"),
        ("fn f() -> i32 { 1 }\n", "rust"),
    ],
)
def test_straight_line_code_has_no_branches_depth_or_calls(code: str, language: str) -> None:
    symbol = _extract(code, language).symbols[-1]
    assert (symbol.branches, symbol.max_depth, symbol.calls, symbol.decorators) == (0, 0, [], [])


def test_calls_are_deduped_in_source_order() -> None:
    symbol = _one("def f(a):\n    b(c(a))\n    a.c()\n    b()\n    d.e.f()\n", "python")
    assert symbol.calls == ["b", "c", "f"]


def test_body_facts_bucket_by_byte_range_into_every_enclosing_definition() -> None:
    # outer [0, 50) holds inner [10, 30); sibling [50, 60) starts where outer ends; 60.. is no one's
    source = b"a" * 20 + b"call" + b"b" * 40 + b"tail"
    ranges = [(0, 50), (10, 30), (50, 60)]
    facts = body_facts(
        source,
        ranges,
        branches=[5, 12, 29, 50, 61],
        calls=[(64, 68), (20, 24), (55, 58)],
        blocks=[(2, 45), (11, 28), (12, 20), (61, 62)],
    )
    assert facts == [
        BodyFacts(branches=3, max_depth=3, calls={"call": None}),
        BodyFacts(branches=2, max_depth=2, calls={"call": None}),  # (2, 45) is around it
        BodyFacts(branches=1, max_depth=0, calls={"bbb": None}),
    ]
    assert body_facts(b"", [], [1], [], [(0, 1)]) == []
