; inherits: ecmascript
; TypeScript definitions beyond JavaScript's (capture names: streams/languages/__init__.py).
; Interfaces and enums count as classes; type aliases, overload and abstract signatures (no
; body) and namespaces are left out (a namespace's functions keep their own names).

(
  [
    (abstract_class_declaration
      name: (_) @name)
    (interface_declaration
      name: (_) @name)
    (enum_declaration
      name: (_) @name)
  ] @definition.class)

(
  [
    (abstract_class_declaration
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
  ] @definition.class)

; A method's decorators stand before it in the class body and belong to its text.
(class_body
  (decorator)+ @span @decorator
  .
  (method_definition) @definition.method)

(abstract_class_declaration
  decorator: (decorator) @decorator) @definition.class

(export_statement
  decorator: (decorator) @decorator
  declaration: (abstract_class_declaration) @definition.class)

(export_statement
  declaration: [
    (abstract_class_declaration)
    (interface_declaration)
    (enum_declaration)
  ] @definition.class) @span

(
  (comment) @doc
  .
  [
    (abstract_class_declaration)
    (interface_declaration)
    (enum_declaration)
  ] @definition.class
  (#match? @doc "^/\\*\\*"))

(
  (comment) @doc
  .
  (export_statement
    declaration: [
      (abstract_class_declaration)
      (interface_declaration)
      (enum_declaration)
    ] @definition.class)
  (#match? @doc "^/\\*\\*"))

(type_parameters) @idiom.generics
