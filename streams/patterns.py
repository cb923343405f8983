"""Which design patterns and idioms a symbol applies, told from its text and extracted facts. Pure.

:func:`design_patterns` names them in the order of :data:`PATTERNS`: ``decorator`` (defines one:
applies ``functools.wraps``, takes a ``PropertyDescriptor``), ``context-manager`` (defines one, a
closeable type, or enters one with ``with`` / try-with-resources), ``generator`` (``yield``),
``async`` (``async``/``await``, a goroutine, a ``CompletableFuture``), ``recursion`` (calls its
own name), ``builder`` (returns its own object to chain calls), ``factory`` (``create_``,
``make_``, ``new_``, ``build_``, ``from_`` names, Go's ``New…``), ``singleton``, ``dataclass``
(``@dataclass``, a pydantic/``NamedTuple`` class, a Java record, a derived Rust struct),
``property`` (accessors), ``iterator`` (the iteration protocol), ``callback`` (takes a function),
``error-handling`` (try/except/catch, Go's ``err != nil``, Rust's ``Result`` and ``?``), ``test``
and ``visitor``. Substring checks come before any regular expression, since most symbols have
none of these and the stage must cost microseconds.
"""

import re

from streams.extract import Symbol

PATTERNS = (
    "decorator",
    "context-manager",
    "generator",
    "async",
    "recursion",
    "builder",
    "factory",
    "singleton",
    "dataclass",
    "property",
    "iterator",
    "callback",
    "error-handling",
    "test",
    "visitor",
)

_FAMILIES = {"typescript": "javascript", "tsx": "javascript"}
_FACTORY_PREFIXES = ("create", "make", "new", "New", "build", "from")
_FACTORY = re.compile(
    r"(?:create|make|new|build|from)(?:_\w+|[A-Z]\w*)|new|New(?:[A-Z]\w*)?|create|make"
)
_ACCESSOR = re.compile(r"(?:static\s+)?(?:get|set)\s+[\w#\[]")
_CONTEXT_MANAGER_DECORATORS = frozenset({"contextmanager", "asynccontextmanager"})
_CONTEXT_MANAGER_METHODS = frozenset({"__enter__", "__exit__", "__aenter__", "__aexit__"})
_DATACLASS_DECORATORS = frozenset({"dataclass", "s", "define", "frozen", "Data", "Value"})
_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "setter", "getter"})
_ITERATOR_METHODS = frozenset({"__iter__", "__next__", "__aiter__", "__anext__", "hasNext"})
_YIELD = re.compile(r"\byield\b")
_ASYNC = re.compile(r"\basync\b")
_SINGLETON_HINTS = {
    "python": ("_instance",),
    "javascript": ("getInstance", "#instance"),
    "java": ("getInstance", "INSTANCE"),
    "go": ("sync.Once",),
    "rust": ("OnceLock", "OnceCell", "lazy_static", "once_cell"),
}
_RECORD = re.compile(r"(?:@.*\s+)?(?:\w+\s+)*record\s")
_DATA_BASES = ("BaseModel", "NamedTuple", "TypedDict")
_DATA_BASE = re.compile(r"\((?:.*[\s,(.])?(?:BaseModel|NamedTuple|TypedDict)\b")
_ITERABLE = re.compile(r"\bimplements\b.*\bIter(?:ator|able)\b", re.S)
_PYTHON_HOOKS = re.compile(r"def (__a?enter__|__iter__|visit_)")
_VISITOR = re.compile(r"visit(?:_|[A-Z]|$)")
_RUST_BUILDER = re.compile(r"\(\s*(?:mut\s+)?self\b.*->\s*Self\b", re.S)
_GO_RECEIVER = re.compile(r"func\s*\(\s*(\w+)\s")
_RUST_ERRORS = re.compile(r"\?\s*[;.)]|\.map_err\(")
_CATCH = re.compile(r"\bcatch\s*[({]")
_CALLBACK_TYPE = re.compile(r"Callable|Fn(?:Mut|Once)?\(|Runnable|Consumer<|Function<")
_CALLBACK_NAME = re.compile(r"[(,]\s*(?:callback|cb|fn|func|handler|listener)\b")
_ON_PARAMETER = re.compile(r"[(,]\s*on[A-Z]")


def design_patterns(symbol: Symbol, language: str, is_test: bool) -> list[str]:
    """Design patterns and idioms the symbol applies, in the order of :data:`PATTERNS`.

    A class is judged on its own design (context manager, builder, singleton, dataclass,
    iterator, visitor); what its methods do inside (async, generators, error handling) is theirs.
    """
    body, signature, name = symbol.body, symbol.signature, symbol.name
    decorators = (
        {d.partition("(")[0].rpartition(".")[2] for d in symbol.decorators}
        if symbol.decorators
        else set()
    )
    family = _FAMILIES.get(language, language)
    method_level = symbol.kind != "class"
    # The protocol methods a Python class defines, found in one pass over its (long) body.
    hooks = set(_PYTHON_HOOKS.findall(body)) if language == "python" and not method_level else set()
    found: list[str] = []
    if "wraps" in symbol.calls or "PropertyDescriptor" in signature:
        found.append("decorator")
    if _is_context_manager(symbol, language, decorators, hooks):
        found.append("context-manager")
    if method_level:
        if ("yield" in body and _YIELD.search(body)) or "function*" in signature:
            found.append("generator")
        if _is_async(body, signature, language):
            found.append("async")
        if name in symbol.calls:
            found.append("recursion")
    if _is_builder(symbol, language):
        found.append("builder")
    if name.startswith(_FACTORY_PREFIXES) and _FACTORY.fullmatch(name):
        found.append("factory")
    if any(map(body.__contains__, _SINGLETON_HINTS.get(family, ()))):
        found.append("singleton")
    if _is_dataclass(symbol, language, decorators):
        found.append("dataclass")
    if decorators & _PROPERTY_DECORATORS or (family == "javascript" and _ACCESSOR.match(signature)):
        found.append("property")
    if _is_iterator(symbol, family, hooks):
        found.append("iterator")
    if method_level:
        if _takes_callback(signature, family):
            found.append("callback")
        if _handles_errors(body, signature, language):
            found.append("error-handling")
    if is_test:
        found.append("test")
    if (name.startswith("visit") and _VISITOR.match(name)) or "visit_" in hooks:
        found.append("visitor")
    return found


def _is_dataclass(symbol: Symbol, language: str, decorators: set[str]) -> bool:
    """A type that mainly holds data: declared so, or with generated equality and printing."""
    if decorators & _DATACLASS_DECORATORS:
        return True
    signature = symbol.signature
    match language:
        case "python":
            return any(map(signature.__contains__, _DATA_BASES)) and bool(
                _DATA_BASE.search(signature)
            )
        case "java":
            return _RECORD.match(signature) is not None
        case "rust":
            return symbol.kind == "class" and "derive" in decorators
    return False


def _is_context_manager(
    symbol: Symbol, language: str, decorators: set[str], hooks: set[str]
) -> bool:
    """Defines a context manager (or a closeable type), or a function enters one."""
    if decorators & _CONTEXT_MANAGER_DECORATORS or symbol.name in _CONTEXT_MANAGER_METHODS:
        return True
    body = symbol.body
    if language == "python":
        if symbol.kind == "class":
            return "__enter__" in hooks or "__aenter__" in hooks
        return _starts_statement(body, "with")
    if language == "java":
        return "AutoCloseable" in symbol.signature or "try (" in body
    return False


def _takes_callback(signature: str, family: str) -> bool:
    """A parameter typed or named as a function; substring checks first, as most have none."""
    if (
        "Callable" in signature
        or "Fn" in signature
        or "Runnable" in signature
        or "Consumer<" in signature
        or "Function<" in signature
    ) and _CALLBACK_TYPE.search(signature):
        return True
    if "=>" in signature.rstrip().removesuffix("=>"):  # an arrow function's own `=>` ends it
        return True
    if family == "go":
        return " func(" in signature
    if (
        "cb" in signature
        or "fn" in signature
        or "func" in signature
        or "handler" in signature
        or "listener" in signature
    ) and _CALLBACK_NAME.search(signature):
        return True
    return family == "javascript" and "on" in signature and bool(_ON_PARAMETER.search(signature))


def _is_async(body: str, signature: str, language: str) -> bool:
    if language == "go":
        return _starts_statement(body, "go")
    if language == "java":
        return "CompletableFuture" in body
    return ("async" in signature and _ASYNC.search(signature) is not None) or "await" in body


def _is_iterator(symbol: Symbol, family: str, hooks: set[str]) -> bool:
    """Implements iteration: the protocol's methods, or a class that defines them."""
    name, signature = symbol.name, symbol.signature
    if name in _ITERATOR_METHODS:
        return True
    match family:
        case "python":
            return "__iter__" in hooks
        case "javascript":
            return "Symbol.iterator" in name or (
                symbol.kind == "class" and "Symbol.iterator" in symbol.body
            )
        case "java":
            return "Iter" in signature and _ITERABLE.search(signature) is not None
        case "rust":
            return "Self::Item" in signature
    return False


def _is_builder(symbol: Symbol, language: str) -> bool:
    """Methods that return their own object, so calls chain (``.with_x().with_y()``)."""
    if language == "rust":
        return _RUST_BUILDER.search(symbol.signature) is not None
    if language == "go":
        receiver = _GO_RECEIVER.match(symbol.signature)
        return receiver is not None and _returns(symbol.body, receiver.group(1))
    return _returns(symbol.body, "self" if language == "python" else "this")


def _starts_statement(body: str, keyword: str) -> bool:
    """Whether ``keyword`` starts a line's statement (after indentation, or after ``async``)."""
    index = body.find(keyword)
    while index >= 0:
        end = index + len(keyword)
        line_start = body.rfind("\n", 0, index) + 1
        if body[line_start:index].strip() in ("", "async") and (
            end == len(body) or not (body[end].isalnum() or body[end] == "_")
        ):
            return True
        index = body.find(keyword, end)
    return False


def _returns(body: str, name: str) -> bool:
    """Whether a line of ``body`` ends with ``return <name>`` (or ``return <name>;``).

    Not in a Python protocol method (``__iter__``, ``__enter__``), which returns ``self`` by
    contract, not to chain calls.
    """
    statement = f"return {name}"
    if statement not in body:
        return False
    for line_end in (statement + "\n", statement + ";", statement + "\r"):
        index = body.find(line_end)
        while index >= 0:
            if not _in_protocol_method(body, index):
                return True
            index = body.find(line_end, index + len(line_end))
    tail = len(body) - len(statement)
    return body.endswith(statement) and not _in_protocol_method(body, tail)


def _in_protocol_method(body: str, index: int) -> bool:
    method = body.rfind("def ", 0, index)
    return method >= 0 and body.startswith("def __", method)


def _handles_errors(body: str, signature: str, language: str) -> bool:
    match language:
        case "python":
            return _starts_statement(body, "except")
        case "go":
            return "err != nil" in body
        case "rust":
            return "Result<" in signature or _RUST_ERRORS.search(body) is not None
        case _:
            return "catch" in body and _CATCH.search(body) is not None
