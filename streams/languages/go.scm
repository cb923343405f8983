; Go definitions and imports for streams.extract (capture names: streams/languages/__init__.py).
; Struct and interface types count as classes; a method is placed in its receiver's type. Other
; type definitions (`type ID int`), aliases and function literals are left out.

(function_declaration
  name: (identifier) @name
  (_) @header.end
  .
  body: (block)) @definition.function

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @receiver
        (generic_type
          type: (type_identifier) @receiver)
        (pointer_type
          [
            (type_identifier) @receiver
            (generic_type
              type: (type_identifier) @receiver)
          ])
      ]))
  name: (field_identifier) @name
  (_) @header.end
  .
  body: (block)) @definition.method

; `type T struct {…}` is the definition with its `type` keyword; within `type (…)` it is the spec.
(
  (type_declaration
    (type_spec
      name: (type_identifier) @name
      type: [
        (struct_type
          "struct" @header.end)
        (interface_type
          "interface" @header.end)
      ])) @definition.class
  (#not-match? @definition.class "^type\\s*\\("))

(type_declaration
  "("
  (type_spec
    name: (type_identifier) @name
    type: [
      (struct_type
        "struct" @header.end)
      (interface_type
        "interface" @header.end)
    ]) @definition.class)

; The doc is the block of `//` comments directly above.
(
  (comment)+ @doc
  .
  (function_declaration) @definition.function)

(
  (comment)+ @doc
  .
  (method_declaration) @definition.method)

(
  (comment)+ @doc
  .
  (type_declaration) @definition.class
  (#not-match? @definition.class "^type\\s*\\("))

(type_declaration
  (comment)+ @doc
  .
  (type_spec) @definition.class)

(source_file
  (import_declaration) @import)
