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

; The package doc is the block of `//` comments directly above the package clause.
(
  (comment)+ @module.doc
  .
  (package_clause))

; Body facts. `if`, `for`, each `case` (not `default`) and each `&&`/`||` are decision points;
; `if`, `for`, `switch` and `select` nest, an `else if` staying on its `if`'s level.
(call_expression
  function: [
    (identifier) @call
    (selector_expression
      field: (field_identifier) @call)
    (index_expression
      operand: [
        (identifier) @call
        (selector_expression
          field: (field_identifier) @call)
      ])
  ])

; A generic function called with type arguments is an index expression above, or, with one
; argument, a conversion to the grammar (`Map[int](xs)`).
(type_conversion_expression
  type: (generic_type
    type: [
      (type_identifier) @call
      (qualified_type
        name: (type_identifier) @call)
    ]))

[(if_statement) (for_statement)] @branch @nest

[(expression_case) (type_case) (communication_case)] @branch

; These tokens are only ever binary operators.
["&&" "||"] @branch

[(expression_switch_statement) (type_switch_statement) (select_statement)] @nest

(if_statement
  alternative: (if_statement) @else_if)

; Module idioms.
(
  (function_declaration
    name: (identifier) @_init) @idiom.init_func
  (#eq? @_init "init"))

(go_statement) @idiom.goroutine

(defer_statement) @idiom.defer

[(send_statement) (channel_type)] @idiom.channel

(select_statement) @idiom.select

(type_parameter_list) @idiom.generics
