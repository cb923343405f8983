; Rust definitions and imports for streams.extract (capture names: streams/languages/__init__.py).
; Structs, enums and traits count as classes; a `fn` in a trait is a method of it, one in an
; `impl` a method of the implemented type. Trait signatures without a body, unions, macros and
; `impl` blocks themselves are left out.

(function_item
  name: (identifier) @name
  (_) @header.end
  .
  body: (block)) @definition.function

(
  [
    (struct_item
      name: (type_identifier) @name)
    (enum_item
      name: (type_identifier) @name)
    (trait_item
      name: (type_identifier) @name)
  ] @definition.class)

; A tuple or unit struct has no body: its signature is its first line.
(
  [
    (struct_item
      (_) @header.end
      .
      body: (field_declaration_list))
    (enum_item
      (_) @header.end
      .
      body: (enum_variant_list))
    (trait_item
      (_) @header.end
      .
      body: (declaration_list))
  ] @definition.class)

; The receiver is the implemented type's name (`Wrapper` for `impl<T> Display for Wrapper<T>`);
; a reference, tuple, slice or trait-object type keeps its whole text.
(impl_item
  type: [
    (type_identifier) @receiver
    (primitive_type) @receiver
    (scoped_type_identifier
      name: (type_identifier) @receiver)
    (generic_type
      type: [
        (type_identifier) @receiver
        (scoped_type_identifier
          name: (type_identifier) @receiver)
      ])
  ]
  body: (declaration_list
    (function_item) @definition.function))

(impl_item
  type: [
    (reference_type)
    (pointer_type)
    (tuple_type)
    (array_type)
    (unit_type)
    (dynamic_type)
    (function_type)
    (never_type)
  ] @receiver
  body: (declaration_list
    (function_item) @definition.function))

; Attributes (`#[derive(Debug)]`, `#[test]`) belong to the definition's text and line range.
; Their attributes (`test`, `derive(Debug)`) are the decorators.
(
  (attribute_item
    (attribute) @decorator)+ @span
  .
  (function_item) @definition.function)

(
  (attribute_item
    (attribute) @decorator)+ @span
  .
  [
    (struct_item)
    (enum_item)
    (trait_item)
  ] @definition.class)

; The doc is the run of `///` lines (or a `/** */` block) above the definition and its attributes.
(
  [
    (line_comment
      outer: (outer_doc_comment_marker))
    (block_comment
      outer: (outer_doc_comment_marker))
  ]+ @doc
  .
  (attribute_item)*
  .
  (function_item) @definition.function)

(
  [
    (line_comment
      outer: (outer_doc_comment_marker))
    (block_comment
      outer: (outer_doc_comment_marker))
  ]+ @doc
  .
  (attribute_item)*
  .
  [
    (struct_item)
    (enum_item)
    (trait_item)
  ] @definition.class)

(source_file
  (use_declaration) @import)

; The crate or module doc is its inner doc comments (`//!`, `/*! */`).
(source_file
  [
    (line_comment
      inner: (inner_doc_comment_marker))
    (block_comment
      inner: (inner_doc_comment_marker))
  ] @module.doc)

; Body facts. `if`, loops, each `match` arm and each `&&`/`||` are decision points (`?` is not);
; `if`, loops and `match` nest, an `else if` staying on its `if`'s level. Macro arguments are
; unparsed tokens: a name followed by `(…)` among them counts as a call (`assert_eq!(f(x), 1)`).
(call_expression
  function: [
    (identifier) @call
    (field_expression
      field: (field_identifier) @call)
    (scoped_identifier
      name: (identifier) @call)
    (generic_function
      function: [
        (identifier) @call
        (field_expression
          field: (field_identifier) @call)
        (scoped_identifier
          name: (identifier) @call)
      ])
  ])

(token_tree
  (identifier) @call
  .
  (token_tree
    "("))

[(if_expression) (for_expression) (while_expression) (loop_expression)] @branch @nest

(match_arm) @branch

(binary_expression
  operator: ["&&" "||"] @branch)

(match_expression) @nest

(else_clause
  (if_expression) @else_if)

; Module idioms.
(
  (attribute_item
    (attribute
      (identifier) @_derive)) @idiom.derive
  (#eq? @_derive "derive"))

[
  (unsafe_block)
  (function_modifiers
    "unsafe")
  (impl_item
    "unsafe")
] @idiom.unsafe

(impl_item
  trait: (_)) @idiom.impl_trait

(
  (attribute_item
    (attribute
      (identifier) @_cfg
      arguments: (token_tree
        (identifier) @_test)))
  .
  (mod_item) @idiom.tests_module
  (#eq? @_cfg "cfg")
  (#eq? @_test "test"))

[
  (async_block)
  (function_modifiers
    "async")
] @idiom.async

(macro_definition) @idiom.macro_rules

(try_expression) @idiom.try_operator
