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
(
  (attribute_item)+ @span
  .
  (function_item) @definition.function)

(
  (attribute_item)+ @span
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
