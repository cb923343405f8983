; Python definitions and imports for streams.extract (capture names: streams/languages/__init__.py).
; A function nested directly in a class is reported as a method by the extractor.

(function_definition
  name: (identifier) @name
  ":" @header.end) @definition.function

(class_definition
  name: (identifier) @name
  ":" @header.end) @definition.class

; Decorators belong to the definition's text and line range.
(decorated_definition
  (decorator)+ @decorator
  definition: (function_definition) @definition.function) @span

(decorated_definition
  (decorator)+ @decorator
  definition: (class_definition) @definition.class) @span

; A docstring is a string literal that is the whole first statement of the body; comments before
; it are children of the definition, not of the block, so the anchor sees the first statement.
(function_definition
  body: (block
    .
    (expression_statement
      .
      [(string) (concatenated_string)] @doc
      .))) @definition.function

(class_definition
  body: (block
    .
    (expression_statement
      .
      [(string) (concatenated_string)] @doc
      .))) @definition.class

(module
  [(import_statement) (import_from_statement) (future_import_statement)] @import)

; The module docstring: the first statement, when it is a string literal (comments may precede it).
(module
  .
  (comment)*
  .
  (expression_statement
    .
    [(string) (concatenated_string)] @module.doc
    .))

; Body facts. `elif`, loops (comprehension clauses too), `except`, `case`, `x if c else y` and
; each `and`/`or` are decision points; `if`, loops, `try`, `with` and `match` nest.
(call
  function: [
    (identifier) @call
    (attribute
      attribute: (identifier) @call)
  ])

[(if_statement) (for_statement) (while_statement)] @branch @nest

[
  (elif_clause)
  (except_clause)
  (case_clause)
  (conditional_expression)
  (boolean_operator)
  (for_in_clause)
  (if_clause)
] @branch

[(try_statement) (with_statement) (match_statement)] @nest

; Module idioms.
(module
  (if_statement
    condition: (comparison_operator
      (identifier) @_name
      (string
        (string_content) @_main))) @idiom.main_guard
  (#eq? @_name "__name__")
  (#eq? @_main "__main__"))

(module
  (expression_statement
    [
      (assignment
        left: (identifier) @_all)
      (augmented_assignment
        left: (identifier) @_all)
    ]) @idiom.dunder_all
  (#eq? @_all "__all__"))

(decorator
  [
    (identifier) @_decorator
    (attribute
      attribute: (identifier) @_decorator)
    (call
      function: [
        (identifier) @_decorator
        (attribute
          attribute: (identifier) @_decorator)
      ])
  ]
  (#eq? @_decorator "dataclass")) @idiom.dataclass

(decorator
  [
    (identifier) @_decorator
    (attribute
      attribute: (identifier) @_decorator)
  ]
  (#any-of? @_decorator "contextmanager" "asynccontextmanager")) @idiom.context_manager

(function_definition
  name: (identifier) @_dunder
  (#any-of? @_dunder "__enter__" "__aenter__")) @idiom.context_manager

(function_definition
  "async") @idiom.async

(function_definition
  return_type: (type)) @idiom.type_hints

(parameters
  [(typed_parameter) (typed_default_parameter)] @idiom.type_hints)
