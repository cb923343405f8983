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
  definition: (function_definition) @definition.function) @span

(decorated_definition
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
