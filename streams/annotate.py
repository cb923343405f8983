"""Annotate a symbol: what it is for, what it uses and applies, how good an example it is. Pure.

:func:`annotate` reads only what extraction already found (the symbol's name, texts, calls,
decorators, branches and depth, its file's path and imports), so it costs microseconds. The
patterns come from :mod:`streams.patterns`, the technologies from :mod:`streams.technologies`;
``intent`` is the docstring's first sentence, else the name in words with the kind ("Parse
config file (function)"); ``cyclomatic`` is one more than the symbol's branches and ``lines``
counts its non-blank lines.

``category`` is the best-scoring entry of :data:`CATEGORIES` by a weighted keyword vote: every
word of the symbol's name counts 3, of its decorators and of its path 2, of what it calls and of
its file's imports 1 (identifiers are split into words, ``parseHTTPRequest`` → parse, http,
request; a plural also finds its singular), and being a test adds 6 to ``testing``. Below a
score of 2 the symbol is ``utility``; ties go to the earlier category. The vocabulary is
:data:`VOCABULARY`, library names included (``sqlalchemy`` votes for data-access).

``quality`` is the weighted mean (:data:`QUALITY_WEIGHTS`) of components in [0, 1]:
documentation (none 0, a one-liner ~0.7, 15 words or more 1; an undocumented body of up to 3
lines 0.5), size (1 within 3 to 40 non-blank lines for a function, 5 to 300 for a class,
falling off outside), complexity (1 up to cyclomatic 10 and depth 4, falling to 0 at three times
the limit and depth 8; a class's limit grows with its size, since it sums its methods), naming
(half for a descriptive name, half for following the language's convention), type_hints (the
share of annotated Python or TypeScript parameters and return; JSDoc types for JavaScript; 1 for
Go, Java and Rust) and tests (1 or 0 when the caller says whether tests call the symbol, else
0.5).
"""

import re
from functools import lru_cache

from common.rows import Annotations
from streams.extract import Symbol
from streams.patterns import design_patterns
from streams.technologies import technologies as imported_technologies
from streams.tests_link import is_test

CATEGORIES = (
    "authentication",
    "data-access",
    "api",
    "ui",
    "testing",
    "infra",
    "cli",
    "concurrency",
    "error-handling",
    "serialization",
    "math",
    "io",
    "logging",
    "config",
    "security",
    "utility",
)
VOCABULARY: dict[str, frozenset[str]] = {
    category: frozenset(words.split())
    for category, words in {
        "authentication": "auth authenticate authentication authn authz authorize authorization "
        "login logout signin signout signup password passwd credential session token jwt oauth "
        "oauth2 oidc sso saml mfa otp totp permission role principal passport authlib",
        "data-access": "db database sql sqlite postgres postgresql mysql mongo mongodb redis query "
        "queryset repository dao orm table row insert upsert cursor transaction transactional "
        "rollback "
        "migration migrate entity persist persistence fetchall fetchone sqlalchemy gorm diesel "
        "hibernate jpa prisma sequelize mongoose typeorm knex psycopg2 pymongo jdbc sqlx pgx "
        "dynamodb elasticsearch cassandra bigquery snowflake",
        "api": "api endpoint route router handler controller request response http https rest "
        "graphql grpc rpc webhook middleware url urls server client fetch flask fastapi django "
        "express koa fastify nestjs spring springframework gin echo fiber chi mux gorilla actix "
        "axum rocket warp tonic aiohttp starlette requests httpx axios okhttp retrofit reqwest "
        "hyper servlet openapi swagger",
        "ui": "ui component render widget button modal dialog page layout style css theme screen "
        "form click onclick dom jsx tsx template html canvas draw color icon menu navbar "
        "sidebar tooltip props animation react vue angular svelte jquery tkinter qt pyqt gtk "
        "swing javafx android",
        "testing": "test testing spec mock fixture assert assertion expect stub fake pytest "
        "unittest junit jest mocha chai vitest jasmine testify mockito assertj hamcrest conftest "
        "e2e benchmark bench criterion proptest hypothesis cypress playwright selenium",
        "infra": "deploy deployment docker dockerfile container kubernetes k8s helm terraform "
        "ansible provision cluster aws gcp azure s3 ec2 cloud infra infrastructure ci release "
        "monitoring monitor health healthcheck prometheus grafana metric boto3 kubectl nginx "
        "systemd cron",
        "cli": "cli command cmd subcommand argv args argparse argument usage prompt terminal tty "
        "shell click typer cobra clap commander yargs picocli docopt rich tqdm progress",
        "concurrency": "thread threading lock mutex rwlock semaphore async await asyncio "
        "concurrent concurrency parallel worker pool queue spawn goroutine channel chan future "
        "promise executor atomic sync waitgroup task gather tokio rayon multiprocessing trio "
        "anyio celery coroutine wait sleep schedule scheduler",
        "error-handling": "error err exception fail failure retry fallback recover panic catch "
        "anyhow thiserror traceback backoff tenacity",
        "serialization": "serialize serializer deserialize deserializer serde json yaml yml xml "
        "csv protobuf proto msgpack pickle marshal unmarshal marshmallow encode decode encoder "
        "decoder dump dumps loads stringify avro parquet arrow pyarrow jackson gson bson pydantic",
        "math": "math matrix vector tensor mean average median variance stddev dot sqrt exp sin "
        "cos tan angle prime factorial fibonacci fib gcd lcm statistics stats linear algebra "
        "gradient derivative integral probability distribution geometry distance numpy scipy "
        "torch tensorflow jax sympy pandas sklearn calculate calc random fft interpolate "
        "regression optimize solver equation polynomial numeric",
        "io": "io file filename pathlib filesystem fs dir directory folder read write reader "
        "writer open readline readlines buffer stdin stdout stderr socket download upload disk "
        "save shutil tempfile glob mkdir seek flush bufio ioutil gzip tar zip archive compress",
        "logging": "log logger logging debug info warn warning tracing audit slf4j log4j logback "
        "zap logrus winston pino loguru structlog",
        "config": "config configuration configure conf settings setting env environ environment "
        "getenv dotenv preference ini toml viper configparser decouple hydra omegaconf",
        "security": "security secure encrypt encryption decrypt crypto cryptography cipher hmac "
        "sha sha1 sha256 md5 verify secret sanitize sanitizer escape csrf xss cert certificate "
        "tls ssl nonce salt bcrypt argon2 scrypt pbkdf2 redact redaction vulnerability cve "
        "firewall acl rsa aes keystore privacy pii",
    }.items()
}
QUALITY_WEIGHTS = {
    "documentation": 0.25,
    "size": 0.15,
    "complexity": 0.25,
    "naming": 0.15,
    "type_hints": 0.10,
    "tests": 0.10,
}

_NAME_WEIGHT, _DECORATOR_WEIGHT, _PATH_WEIGHT, _CALL_WEIGHT, _IMPORT_WEIGHT = 3, 2, 2, 1, 1
_TEST_BONUS, _MIN_SCORE = 6, 2
_RANK = {category: rank for rank, category in enumerate(CATEGORIES)}
_INDEX = {
    word: tuple(c for c in CATEGORIES[:-1] if word in VOCABULARY[c])
    for words in VOCABULARY.values()
    for word in words
}

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_IDENTIFIERS = re.compile(r"[A-Za-z_]\w*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_VAGUE = frozenset(
    ("foo", "bar", "baz", "qux", "tmp", "temp", "data", "stuff", "thing", "func", "fn", "dummy")
)
_CONVENTIONS = {
    ("python", "class"): re.compile(r"_?[A-Z][A-Za-z0-9]*"),
    ("python", "function"): re.compile(r"_{0,2}[a-z][a-z0-9_]*"),
    ("javascript", "class"): re.compile(r"[A-Z][A-Za-z0-9]*"),
    ("javascript", "function"): re.compile(r"[#_$]?[A-Za-z][A-Za-z0-9]*"),  # components: Pascal
    ("go", "class"): re.compile(r"[A-Za-z][A-Za-z0-9]*"),
    ("go", "function"): re.compile(r"[A-Za-z][A-Za-z0-9]*|(?:Test|Benchmark|Example)\w*"),
    ("java", "class"): re.compile(r"[A-Z][A-Za-z0-9]*"),
    ("java", "function"): re.compile(r"[a-z][A-Za-z0-9]*"),
    ("rust", "class"): re.compile(r"[A-Z][A-Za-z0-9]*"),
    ("rust", "function"): re.compile(r"[a-z_][a-z0-9_]*"),
}
_FAMILIES = {"typescript": "javascript", "tsx": "javascript"}
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|<[^<>]*>")
_JSDOC_TYPES = re.compile(r"@(?:param|returns?|type)\s*\{")
_CLASS_SAMPLE = 4000
_PYTHON_FIELD = re.compile(r"\n\s+\w+\s*:\s*\S")


def annotate(
    symbol: Symbol, language: str, path: str, imports: list[str], has_tests: bool | None = None
) -> Annotations:
    """Annotate ``symbol`` of the file ``path`` in ``language``, which imports ``imports``.

    ``has_tests`` says whether some test calls the symbol (see :mod:`streams.tests_link`); None
    when unknown, which scores the tests component 0.5.
    """
    testing = is_test(path, symbol)
    rows = symbol.body.split("\n")
    lines = len(rows) - rows.count("") - sum(map(str.isspace, rows))  # non-blank, in C loops
    cyclomatic = 1 + symbol.branches
    components = {
        "documentation": _documentation(symbol.docstring, lines),
        "size": _size(symbol.kind, lines),
        "complexity": _complexity(symbol.kind, cyclomatic, symbol.max_depth, lines),
        "naming": _naming(symbol, language),
        "type_hints": _type_hints(symbol, language),
        "tests": 0.5 if has_tests is None else float(has_tests),
    }
    quality = 0.0
    for name, value in components.items():
        quality += QUALITY_WEIGHTS[name] * value
        components[name] = round(value, 4)
    return Annotations(
        category=_category(symbol, path, language, tuple(imports), testing),
        intent=_intent(symbol),
        technologies=imported_technologies(language, imports),
        patterns=design_patterns(symbol, language, testing),
        cyclomatic=cyclomatic,
        nesting_depth=symbol.max_depth,
        lines=lines,
        quality=round(quality, 4),
        quality_components=components,
    )


@lru_cache(maxsize=65536)
def _words(identifier: str) -> tuple[str, ...]:
    """Lowercase words of an identifier, and the whole identifier (``k8s``, ``getenv``)."""
    words = [w.lower() for w in _WORDS.findall(identifier)]
    whole = identifier.lower()
    return (*words, whole) if whole not in words else tuple(words)


@lru_cache(maxsize=65536)
def _votes(text: str) -> tuple[str, ...]:
    """The categories the distinct words of a text's identifiers vote for, once per word.

    Cached: names, calls, paths and decorators repeat across the symbols of a repository.
    """
    words = {w for identifier in _IDENTIFIERS.findall(text) for w in _words(identifier)}
    votes: list[str] = []
    for word in words:
        found = _INDEX.get(word)
        if found is None and word.endswith("s"):
            found = _INDEX.get(word[:-1])
        votes.extend(found or ())
    return tuple(votes)


@lru_cache(maxsize=4096)
def _import_votes(language: str, imports: tuple[str, ...]) -> tuple[str, ...]:
    libraries = imported_technologies(language, list(imports))
    return _votes(" ".join(library.replace("-", "_") for library in libraries))


def _category(
    symbol: Symbol, path: str, language: str, imports: tuple[str, ...], testing: bool
) -> str:
    scores: dict[str, int] = {"testing": _TEST_BONUS} if testing else {}
    get = scores.get
    for category in _votes(symbol.name):
        scores[category] = get(category, 0) + _NAME_WEIGHT
    for decorator in symbol.decorators:
        for category in _votes(decorator.partition("(")[0]):
            scores[category] = get(category, 0) + _DECORATOR_WEIGHT
    for category in _votes(path):
        scores[category] = get(category, 0) + _PATH_WEIGHT
    for name in symbol.calls:
        for category in _votes(name):
            scores[category] = get(category, 0) + _CALL_WEIGHT
    for category in _import_votes(language, imports):
        scores[category] = get(category, 0) + _IMPORT_WEIGHT
    if not scores:
        return "utility"
    top = max(scores.values())
    best = min((c for c, score in scores.items() if score == top), key=_RANK.__getitem__)
    return best if top >= _MIN_SCORE else "utility"


def _intent(symbol: Symbol) -> str:
    """The docstring's first sentence, else the name as words with the kind."""
    paragraph = symbol.docstring.strip().split("\n\n", 1)[0]
    if paragraph and not paragraph.startswith("@"):
        return _SENTENCE_END.split(" ".join(paragraph.split()), maxsplit=1)[0][:200]
    return _name_intent(symbol.name, symbol.kind)


@lru_cache(maxsize=65536)
def _name_intent(name: str, kind: str) -> str:
    """``parseHTTPRequest`` → "Parse HTTP request (function)" (cached: names repeat)."""
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in _WORDS.findall(name)]
    phrase = " ".join(words) or name
    return f"{phrase[:1].upper()}{phrase[1:]} ({kind})"


def _documentation(docstring: str, lines: int) -> float:
    if not docstring:
        return 0.5 if lines <= 3 else 0.0
    return 0.6 + 0.4 * min(1.0, len(docstring.split()) / 15)


def _size(kind: str, lines: int) -> float:
    low, high = (5, 300) if kind == "class" else (3, 40)
    if lines < low:
        return lines / low
    return max(0.0, 1 - (lines - high) / (4 * high)) if lines > high else 1.0


def _complexity(kind: str, cyclomatic: int, depth: int, lines: int) -> float:
    limit = max(10, lines // 4) if kind == "class" else 10
    branching = max(0.0, 1 - (cyclomatic - limit) / (2 * limit)) if cyclomatic > limit else 1.0
    nesting = max(0.0, 1 - (depth - 4) / 4) if depth > 4 else 1.0
    return min(branching, nesting)


def _naming(symbol: Symbol, language: str) -> float:
    constructor = symbol.name == symbol.enclosing_class.rpartition(".")[2]  # Java, TypeScript
    return _name_score(symbol.name, symbol.kind == "class", constructor, language)


@lru_cache(maxsize=65536)
def _name_score(name: str, is_class: bool, constructor: bool, language: str) -> float:
    """Half for a descriptive name, half for the language's convention (cached: names repeat)."""
    core = name.strip("_#$")
    descriptive = len(core) >= 3 and core.lower() not in _VAGUE
    kind = "class" if is_class else "function"
    convention = _CONVENTIONS.get((_FAMILIES.get(language, language), kind))
    follows = convention is None or constructor or convention.fullmatch(name) is not None
    return 0.5 * descriptive + 0.5 * follows


def _type_hints(symbol: Symbol, language: str) -> float:
    if language in ("go", "java", "rust"):
        return 1.0
    if language == "javascript":
        return 1.0 if _JSDOC_TYPES.search(symbol.docstring) else 0.0
    if symbol.kind == "class":
        return _python_class_hints(symbol.body) if language == "python" else 1.0
    return _annotated_share(symbol.signature, language)


@lru_cache(maxsize=16384)
def _annotated_share(signature: str, language: str) -> float:
    """Annotated parameters and return type, over parameters plus one (the return).

    Brackets inside the parameter list are dropped (innermost first) before it is split on
    commas, so ``dict[str, int]`` or a default ``f(a, b)`` stays one parameter.
    """
    opening, closing = signature.find("("), signature.rfind(")")
    if opening < 0 or closing < opening:
        return 0.0
    inner = signature[opening + 1 : closing]
    while (flat := _BRACKETED.sub("", inner)) != inner:
        inner = flat
    names = [p for p in map(str.strip, inner.split(",")) if p not in ("", "self", "cls", "*", "/")]
    annotated = sum(1 for p in names if ":" in p.partition("=")[0])
    rest = signature[closing + 1 :].lstrip()
    returns = rest.startswith("->") if language == "python" else rest.startswith(":")
    return (annotated + returns) / (len(names) + 1)


def _python_class_hints(body: str) -> float:
    """About the share of a class's methods with a return annotation; fields count when none.

    Read from the start of the body only (:data:`_CLASS_SAMPLE` characters), which bounds the
    cost of a long class and samples its methods all the same.
    """
    sample = body[:_CLASS_SAMPLE]
    methods = sample.count("def ")
    if methods:
        return min(1.0, sample.count(") ->") / methods)
    return 1.0 if _PYTHON_FIELD.search(sample) else 0.0
