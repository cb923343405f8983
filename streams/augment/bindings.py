"""How each language binds names: the query and rules :mod:`streams.augment.names` works from.

A query marks scopes (@scope.function, .comprehension, .block, .class), bindings and the
identifiers that are no variables. Bindings: @def (visible in their whole scope, as Python
locals, JavaScript `let` or parameters), @def.var (in the nearest function: `var`, the walrus),
@def.here (from the identifier on: Java locals), @def.seq (after their declaration ends: Rust
`let x = x`, Go `:=`), @def.fixed (bindings never renamed: function and class names, imports,
receivers); a @pattern.<mode> capture is a destructuring pattern whose binding identifiers are
collected by walking it. @skip marks identifiers that are no variable, @unsafe names never to
rename, @shorthand a use written `{x}` that becomes `{x: new}`, @outer a Python default
(evaluated outside its function), @token and @format the identifiers and strings of a Rust macro.
"""

import builtins
from dataclasses import dataclass

_PYTHON_NAMES = """
[(function_definition) (lambda)] @scope.function
[(list_comprehension) (set_comprehension) (dictionary_comprehension)
 (generator_expression)] @scope.comprehension
(class_definition body: (block) @scope.class)
(parameters (identifier) @def)
(lambda_parameters (identifier) @def)
(default_parameter name: (identifier) @def)
(typed_default_parameter name: (identifier) @def)
(typed_parameter . (identifier) @def)
(list_splat_pattern (identifier) @def)
(dictionary_splat_pattern (identifier) @def)
(assignment left: (identifier) @def)
(augmented_assignment left: (identifier) @def)
(pattern_list (identifier) @def)
(tuple_pattern (identifier) @def)
(list_pattern (identifier) @def)
(for_statement left: (identifier) @def)
(for_in_clause left: (identifier) @def)
(as_pattern_target (identifier) @def)
(as_pattern_target [(tuple (identifier) @def) (list (identifier) @def)])
(named_expression name: (identifier) @def.var)
(as_pattern (case_pattern) (identifier) @def)
(case_pattern (dotted_name . (identifier) @def .))
(keyword_pattern (dotted_name . (identifier) @def .))
(splat_pattern (identifier) @def)
(function_definition name: (identifier) @def.fixed)
(class_definition name: (identifier) @def.fixed)
(import_statement name: (dotted_name . (identifier) @def.fixed))
(aliased_import alias: (identifier) @def.fixed)
(import_from_statement name: (dotted_name . (identifier) @def.fixed))
(global_statement (identifier) @global)
(nonlocal_statement (identifier) @nonlocal)
(default_parameter value: (_) @outer)
(typed_default_parameter value: (_) @outer)
(attribute attribute: (identifier) @skip)
(keyword_argument name: (identifier) @skip @unsafe)
(interpolation expression: [(identifier) @unsafe (attribute object: (identifier) @unsafe)] "=")
(keyword_pattern . (identifier) @skip)
(dotted_name (identifier) (identifier) @skip)
(import_from_statement module_name: (dotted_name (identifier) @skip))
(relative_import (dotted_name (identifier) @skip))
(aliased_import name: (dotted_name (identifier) @skip))
(identifier) @ref
"""

_JAVASCRIPT_NAMES = """
[(function_declaration) (generator_function_declaration) (function_expression)
 (generator_function) (arrow_function) (method_definition)] @scope.function
[(statement_block) (for_statement) (for_in_statement) (catch_clause) (switch_body)] @scope.block
(class_body) @scope.class
(formal_parameters (_) @pattern)
(arrow_function parameter: (identifier) @def)
(variable_declaration (variable_declarator name: (_) @pattern.var))
(lexical_declaration (variable_declarator name: (_) @pattern))
(for_in_statement kind: "var" left: (_) @pattern.var)
(for_in_statement kind: ["let" "const"] left: (_) @pattern)
(catch_clause parameter: (_) @pattern)
(function_declaration name: (_) @def.fixed)
(generator_function_declaration name: (_) @def.fixed)
(function_expression name: (_) @def.fixed)
(class_declaration name: (_) @def.fixed)
(class name: (_) @def.fixed)
(shorthand_property_identifier) @shorthand
(identifier) @ref
"""
_JSX_NAMES = """
(jsx_opening_element name: (identifier) @unsafe)
(jsx_closing_element name: (identifier) @unsafe)
(jsx_self_closing_element name: (identifier) @unsafe)
"""
_TYPESCRIPT_NAMES = """
(required_parameter (accessibility_modifier) pattern: (identifier) @def.fixed)
(required_parameter "readonly" pattern: (identifier) @def.fixed)
(optional_parameter (accessibility_modifier) pattern: (identifier) @def.fixed)
"""

_GO_NAMES = """
[(function_declaration) (method_declaration) (func_literal)] @scope.function
[(block) (if_statement) (for_statement) (expression_switch_statement) (type_switch_statement)
 (select_statement) (expression_case) (type_case) (default_case) (communication_case)] @scope.block
(parameter_declaration name: (identifier) @def)
(variadic_parameter_declaration name: (identifier) @def)
(method_declaration
  receiver: (parameter_list (parameter_declaration name: (identifier) @def.fixed)))
(short_var_declaration left: (expression_list (identifier) @def.seq))
(var_spec name: (identifier) @def.seq)
(const_spec name: (identifier) @def.seq)
(range_clause left: (expression_list (identifier) @def) ":=")
(type_switch_statement alias: (expression_list (identifier) @def))
(receive_statement left: (expression_list (identifier) @def) ":=")
(function_declaration name: (identifier) @def.fixed)
(keyed_element key: (literal_element (identifier) @unsafe))
(identifier) @ref
"""

_JAVA_NAMES = """
[(method_declaration) (constructor_declaration) (compact_constructor_declaration)
 (lambda_expression)] @scope.function
[(block) (constructor_body) (for_statement) (enhanced_for_statement) (catch_clause)
 (try_with_resources_statement) (switch_block_statement_group) (switch_rule)] @scope.block
[(class_body) (interface_body) (enum_body)] @scope.class
(formal_parameter name: (identifier) @def)
(spread_parameter (variable_declarator name: (identifier) @def))
(catch_formal_parameter name: (identifier) @def)
(inferred_parameters (identifier) @def)
(lambda_expression parameters: (identifier) @def)
(enhanced_for_statement name: (identifier) @def)
(local_variable_declaration declarator: (variable_declarator name: (identifier) @def.here))
(resource name: (identifier) @def.here)
(instanceof_expression name: (identifier) @def.here)
(type_pattern (identifier) @def.here)
(field_declaration declarator: (variable_declarator name: (identifier) @def.fixed))
(enum_constant name: (identifier) @def.fixed)
(method_invocation name: (identifier) @skip)
(field_access field: (identifier) @skip)
(method_reference "::" (identifier) @skip)
(labeled_statement (identifier) @skip)
(break_statement (identifier) @skip)
(continue_statement (identifier) @skip)
(marker_annotation name: (identifier) @skip)
(annotation name: (identifier) @skip)
(element_value_pair key: (identifier) @skip)
(record_pattern (identifier) @skip)
(scoped_identifier (identifier) @skip)
(class_declaration name: (identifier) @skip)
(interface_declaration name: (identifier) @skip)
(enum_declaration name: (identifier) @skip)
(record_declaration name: (identifier) @skip)
(method_declaration name: (identifier) @skip)
(constructor_declaration name: (identifier) @skip)
(compact_constructor_declaration name: (identifier) @skip)
(identifier) @ref
"""

_RUST_NAMES = """
[(function_item) (closure_expression)] @scope.function
[(block) (for_expression) (match_arm) (if_expression) (while_expression)] @scope.block
[(declaration_list) (field_declaration_list)] @scope.class
(parameter pattern: (_) @pattern)
(closure_parameters (_) @pattern)
(let_declaration pattern: (_) @pattern.seq)
(let_condition pattern: (_) @pattern.seq)
(for_expression pattern: (_) @pattern)
(match_arm pattern: (match_pattern) @pattern)
(function_item name: (identifier) @def.fixed)
(const_item name: (identifier) @def.fixed)
(static_item name: (identifier) @def.fixed)
(use_declaration argument: (identifier) @def.fixed)
(use_as_clause alias: (identifier) @def.fixed)
(use_list (identifier) @def.fixed)
(macro_invocation macro: (identifier) @skip)
(scoped_identifier path: (identifier) @skip)
(scoped_identifier name: (identifier) @skip)
(scoped_type_identifier path: (identifier) @skip)
(scoped_use_list path: (identifier) @skip)
(tuple_struct_pattern type: (identifier) @skip)
(label (identifier) @skip)
(attribute (identifier) @skip)
(attribute (token_tree (identifier) @skip))
(shorthand_field_initializer (identifier) @shorthand)
(token_tree (identifier) @token)
(token_tree (string_literal) @format)
(identifier) @ref
"""


@dataclass(frozen=True)
class NameRules:
    """How one language binds names, beyond its query.

    ``declarations`` end a @def.seq binding's declaration; ``skip_fields`` ((parent type or "*",
    field)) and ``skip_types`` are the parts of a @pattern that bind nothing (defaults, types,
    keys, paths); ``reserved`` names are never renamed; ``sees_class_names`` says whether code in
    a method sees the names of its class body (Java fields do, Python class attributes do not);
    ``lowercase_bindings`` whether only lowercase identifiers in a pattern bind (Rust, where
    ``None`` in a pattern is a constant).
    """

    query: str
    reserved: frozenset[bytes]
    declarations: frozenset[str] = frozenset()
    skip_fields: frozenset[tuple[str, str]] = frozenset()
    skip_types: frozenset[str] = frozenset()
    sees_class_names: bool = False
    lowercase_bindings: bool = False


NEVER_RENAMED = frozenset({b"_", b"self", b"cls", b"this", b"mcs", b"metacls"})
_JS_RESERVED = frozenset(
    b"arguments undefined NaN Infinity globalThis window document console require module "
    b"exports eval".split()
)
_JS_SKIPS = frozenset(
    {("*", "right"), ("*", "key"), ("*", "type"), ("*", "decorator")}
    | {("required_parameter", "value"), ("optional_parameter", "value")}
)


def _js_rules(query: str) -> NameRules:
    return NameRules(
        query, _JS_RESERVED, skip_fields=_JS_SKIPS, skip_types=frozenset({"decorator"})
    )


_GO_PREDECLARED = frozenset(
    b"append cap clear close complex copy delete imag len make max min new panic print "
    b"println real recover any bool byte comparable complex64 complex128 error float32 "
    b"float64 int int8 int16 int32 int64 rune string uint uint8 uint16 uint32 uint64 "
    b"uintptr true false iota nil".split()
)
NAME_RULES = {
    "python": NameRules(_PYTHON_NAMES, frozenset(name.encode() for name in dir(builtins))),
    "javascript": _js_rules(_JAVASCRIPT_NAMES + _JSX_NAMES),
    "typescript": _js_rules(_JAVASCRIPT_NAMES + _TYPESCRIPT_NAMES),
    "tsx": _js_rules(_JAVASCRIPT_NAMES + _JSX_NAMES + _TYPESCRIPT_NAMES),
    "go": NameRules(
        _GO_NAMES,
        reserved=_GO_PREDECLARED,
        declarations=frozenset({"short_var_declaration", "var_spec", "const_spec"}),
    ),
    "java": NameRules(_JAVA_NAMES, frozenset(), sees_class_names=True),
    "rust": NameRules(
        _RUST_NAMES,
        frozenset(),
        declarations=frozenset({"let_declaration", "let_condition"}),
        skip_fields=frozenset({("*", "type"), ("match_pattern", "condition")}),
        skip_types=frozenset({"scoped_identifier", "range_pattern", "macro_invocation"}),
        lowercase_bindings=True,
    ),
}
