; Java definitions and imports for streams.extract (capture names: streams/languages/__init__.py).
; Classes, interfaces, enums and records count as classes; methods and constructors with a body
; are methods (abstract and interface methods without one are left out). Annotations are part
; of a definition's modifiers, so they start its text and its signature.

(
  [
    (class_declaration
      name: (identifier) @name)
    (interface_declaration
      name: (identifier) @name)
    (enum_declaration
      name: (identifier) @name)
    (record_declaration
      name: (identifier) @name)
  ] @definition.class)

; Annotations are the decorators; they stay in the text and signature (they are modifiers).
(
  [
    (class_declaration
      (modifiers
        [(marker_annotation) (annotation)] @decorator))
    (interface_declaration
      (modifiers
        [(marker_annotation) (annotation)] @decorator))
    (enum_declaration
      (modifiers
        [(marker_annotation) (annotation)] @decorator))
    (record_declaration
      (modifiers
        [(marker_annotation) (annotation)] @decorator))
  ] @definition.class)

; The signature ends before the body (after the name, parameters, heritage or throws clause).
(
  [
    (class_declaration
      (_) @header.end
      .
      body: (class_body))
    (interface_declaration
      (_) @header.end
      .
      body: (interface_body))
    (enum_declaration
      (_) @header.end
      .
      body: (enum_body))
    (record_declaration
      (_) @header.end
      .
      body: (class_body))
  ] @definition.class)

(
  [
    (method_declaration
      name: (identifier) @name
      (_) @header.end
      .
      body: (block))
    (constructor_declaration
      name: (identifier) @name
      (_) @header.end
      .
      body: (constructor_body))
    (compact_constructor_declaration
      name: (identifier) @name @header.end
      .
      body: (block))
  ] @definition.method)

(
  [
    (method_declaration
      (modifiers
        [(marker_annotation) (annotation)] @decorator))
    (constructor_declaration
      (modifiers
        [(marker_annotation) (annotation)] @decorator))
  ] @definition.method)

; The doc is the Javadoc comment right above the definition.
(
  (block_comment) @doc
  .
  [
    (class_declaration)
    (interface_declaration)
    (enum_declaration)
    (record_declaration)
  ] @definition.class
  (#match? @doc "^/\\*\\*"))

(
  (block_comment) @doc
  .
  [
    (method_declaration)
    (constructor_declaration)
    (compact_constructor_declaration)
  ] @definition.method
  (#match? @doc "^/\\*\\*"))

(program
  (import_declaration) @import)

; The file's doc is a Javadoc comment right above the package declaration (package-info.java).
(
  (block_comment) @module.doc
  .
  (package_declaration)
  (#match? @module.doc "^/\\*\\*"))

; Body facts. `if`, loops, each `case` label (not `default`), `catch`, `?:` and each `&&`/`||`
; are decision points; `if`, loops, `switch`, `try` and `synchronized` nest, an `else if`
; staying on its `if`'s level. Constructor calls (`new T()`) are calls of `T`.
(method_invocation
  name: (identifier) @call)

(object_creation_expression
  type: [
    (type_identifier) @call
    (scoped_type_identifier
      (type_identifier) @call .)
    (generic_type
      [
        (type_identifier) @call
        (scoped_type_identifier
          (type_identifier) @call .)
      ])
  ])

[
  (if_statement)
  (for_statement)
  (enhanced_for_statement)
  (while_statement)
  (do_statement)
] @branch @nest

[(catch_clause) (ternary_expression)] @branch

(switch_label
  "case") @branch

; These tokens are only ever binary operators.
["&&" "||"] @branch

[
  (switch_expression)
  (try_statement)
  (try_with_resources_statement)
  (synchronized_statement)
] @nest

(if_statement
  alternative: (if_statement) @else_if)

; Module idioms (`streams` is known by the names called: LanguageSpec).
[(marker_annotation) (annotation)] @idiom.annotations

(try_with_resources_statement) @idiom.try_with_resources

(lambda_expression) @idiom.lambda

(record_declaration) @idiom.record

(type_parameters) @idiom.generics
