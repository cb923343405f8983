; JavaScript and TypeScript definitions and imports for streams.extract (capture names:
; streams/languages/__init__.py). JavaScript, TypeScript and TSX inherit this query, so it names
; only node types all their grammars share (JSX is in jsx.scm). A function nested directly in a
; class is reported as a method by the extractor; object-literal methods, class fields holding
; arrow functions and anonymous (default-exported) definitions are left out.

(function_declaration
  name: (_) @name) @definition.function

(generator_function_declaration
  name: (_) @name) @definition.function

(class_declaration
  name: (_) @name) @definition.class

; Decorators of a class stand before it (or before its `export`).
(class_declaration
  decorator: (decorator) @decorator) @definition.class

(export_statement
  decorator: (decorator) @decorator
  declaration: (class_declaration) @definition.class)

(class_body
  (method_definition
    name: (_) @name) @definition.method)

; The signature ends before the body block (after the parameters, return type or heritage).
[
  (function_declaration
    (_) @header.end
    .
    body: (statement_block))
  (generator_function_declaration
    (_) @header.end
    .
    body: (statement_block))
] @definition.function

(class_declaration
  (_) @header.end
  .
  body: (class_body)) @definition.class

(class_body
  (method_definition
    (_) @header.end
    .
    body: (statement_block)) @definition.method)

; `const f = (…) => …` and `let g = function (…) {…}` define f and g; the whole declaration
; (`const`, `let` or `var`) is the definition, so the signature reads `const f = (…) =>`. Only
; declarations of a single variable count.
(_
  .
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function
        "=>" @header.end)
      (function_expression
        (_) @header.end
        .
        body: (statement_block))
      (generator_function
        (_) @header.end
        .
        body: (statement_block))
    ])
  .) @definition.function

; `export` (with its decorators) belongs to the definition's text and line range.
(export_statement
  declaration: [
    (function_declaration)
    (generator_function_declaration)
    (lexical_declaration)
    (variable_declaration)
  ] @definition.function) @span

(export_statement
  declaration: (class_declaration) @definition.class) @span

; The doc is the JSDoc comment right above the definition (or above its `export`).
(
  (comment) @doc
  .
  [
    (function_declaration)
    (generator_function_declaration)
    (lexical_declaration)
    (variable_declaration)
  ] @definition.function
  (#match? @doc "^/\\*\\*"))

(
  (comment) @doc
  .
  (export_statement
    declaration: [
      (function_declaration)
      (generator_function_declaration)
      (lexical_declaration)
      (variable_declaration)
    ] @definition.function)
  (#match? @doc "^/\\*\\*"))

(
  (comment) @doc
  .
  (class_declaration) @definition.class
  (#match? @doc "^/\\*\\*"))

(
  (comment) @doc
  .
  (export_statement
    declaration: (class_declaration) @definition.class)
  (#match? @doc "^/\\*\\*"))

; TypeScript puts a method's decorators before it in the class body, JavaScript inside it.
(class_body
  (comment) @doc
  .
  (decorator)*
  .
  (method_definition) @definition.method
  (#match? @doc "^/\\*\\*"))

(program
  (import_statement) @import)

; The file's doc is a leading JSDoc comment that documents no definition: one followed by an
; import, a statement or another comment, or one with a `@file`, `@fileoverview` or `@module` tag.
(program
  .
  (comment) @module.doc
  .
  [(import_statement) (expression_statement) (comment)]
  (#match? @module.doc "^/\\*\\*"))

(program
  .
  (comment) @module.doc
  (#match? @module.doc "^/\\*\\*(.|\n)*@(file|fileoverview|module)\\b"))

; Body facts. `if`, loops, each `case` (not `default`), `catch`, `?:` and each `&&`, `||`, `??`
; are decision points; `if`, loops, `switch` and `try` nest, an `else if` staying on its `if`'s
; level. Constructor calls (`new T()`) are calls of `T`.
(call_expression
  function: [
    (identifier) @call
    (member_expression
      property: [(property_identifier) (private_property_identifier)] @call)
  ])

(new_expression
  constructor: [
    (identifier) @call
    (member_expression
      property: (property_identifier) @call)
  ])

[
  (if_statement)
  (for_statement)
  (for_in_statement)
  (while_statement)
  (do_statement)
] @branch @nest

[(switch_case) (catch_clause) (ternary_expression)] @branch

; These tokens are only ever binary operators.
["&&" "||" "??"] @branch

[(switch_statement) (try_statement)] @nest

(else_clause
  (if_statement) @else_if)

; Module idioms (`promise` and `react_hook` are known by the names called: LanguageSpec).
(await_expression) @idiom.async_await

(export_statement
  "default") @idiom.export_default

(decorator) @idiom.decorators
