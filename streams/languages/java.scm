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
