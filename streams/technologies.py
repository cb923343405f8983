"""Which libraries and frameworks a file uses, read from its import statements. Pure.

Each language's import texts (as :mod:`streams.extract` captures them) are reduced to the modules
they name; relative imports and the standard library are left out (Python's from
``sys.stdlib_module_names``, Node's built-in modules, Go paths without a domain, ``java.*`` and
Rust's ``std``). A module of a well-known library becomes that library's name (``sklearn`` →
``scikit-learn``, ``org.springframework.web`` → ``spring``); any other keeps its top-level name
(a Go or Java module its first path segments), so an in-house package shows up as itself.
"""

import re
import sys
from collections.abc import Iterator
from functools import lru_cache

_PYTHON = {
    "aiohttp": "aiohttp",
    "boto3": "aws",
    "botocore": "aws",
    "celery": "celery",
    "click": "click",
    "confluent_kafka": "kafka",
    "django": "django",
    "fastapi": "fastapi",
    "flask": "flask",
    "grpc": "grpc",
    "httpx": "httpx",
    "jax": "jax",
    "jinja2": "jinja",
    "kafka": "kafka",
    "matplotlib": "matplotlib",
    "numpy": "numpy",
    "pandas": "pandas",
    "psycopg2": "postgresql",
    "pydantic": "pydantic",
    "pymongo": "mongodb",
    "pytest": "pytest",
    "redis": "redis",
    "requests": "requests",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "sqlalchemy": "sqlalchemy",
    "starlette": "starlette",
    "tensorflow": "tensorflow",
    "torch": "torch",
    "transformers": "transformers",
    "typer": "typer",
    "yaml": "pyyaml",
}
_JAVASCRIPT = {
    "@angular": "angular",
    "@apollo": "apollo",
    "@nestjs": "nestjs",
    "@prisma": "prisma",
    "@reduxjs": "redux",
    "@testing-library": "testing-library",
    "axios": "axios",
    "express": "express",
    "fastify": "fastify",
    "graphql": "graphql",
    "jest": "jest",
    "koa": "koa",
    "lodash": "lodash",
    "mocha": "mocha",
    "mongoose": "mongodb",
    "next": "next",
    "react": "react",
    "react-dom": "react",
    "redux": "redux",
    "rxjs": "rxjs",
    "sequelize": "sequelize",
    "socket.io": "socket.io",
    "typeorm": "typeorm",
    "vitest": "vitest",
    "vue": "vue",
    "zod": "zod",
}
_NODE_BUILTINS = frozenset(
    {
        "assert", "buffer", "child_process", "cluster", "crypto", "dgram", "dns", "events",
        "fs", "http", "http2", "https", "net", "os", "path", "perf_hooks", "process",
        "querystring", "readline", "stream", "string_decoder", "timers", "tls", "tty", "url",
        "util", "vm", "worker_threads", "zlib",
    }
)  # fmt: skip
# Go and Java modules are matched by prefix, the first that fits winning.
_GO = (
    ("github.com/gin-gonic/gin", "gin"),
    ("github.com/labstack/echo", "echo"),
    ("github.com/gofiber/fiber", "fiber"),
    ("github.com/go-chi/chi", "chi"),
    ("github.com/gorilla/mux", "gorilla"),
    ("gorm.io", "gorm"),
    ("google.golang.org/grpc", "grpc"),
    ("google.golang.org/protobuf", "protobuf"),
    ("github.com/golang/protobuf", "protobuf"),
    ("github.com/spf13/cobra", "cobra"),
    ("github.com/spf13/viper", "viper"),
    ("github.com/stretchr/testify", "testify"),
    ("go.uber.org/zap", "zap"),
    ("github.com/sirupsen/logrus", "logrus"),
    ("github.com/prometheus", "prometheus"),
    ("github.com/redis/go-redis", "redis"),
    ("github.com/go-redis/redis", "redis"),
    ("go.mongodb.org", "mongodb"),
    ("github.com/jmoiron/sqlx", "sqlx"),
    ("github.com/jackc/pgx", "postgresql"),
    ("k8s.io", "kubernetes"),
    ("github.com/aws/aws-sdk-go", "aws"),
)
_JAVA = (
    ("org.springframework", "spring"),
    ("org.junit", "junit"),
    ("org.mockito", "mockito"),
    ("org.assertj", "assertj"),
    ("com.fasterxml.jackson", "jackson"),
    ("com.google.gson", "gson"),
    ("com.google.common", "guava"),
    ("lombok", "lombok"),
    ("org.hibernate", "hibernate"),
    ("javax.persistence", "jpa"),
    ("jakarta.persistence", "jpa"),
    ("javax.servlet", "servlet"),
    ("jakarta.servlet", "servlet"),
    ("org.slf4j", "slf4j"),
    ("org.apache.logging.log4j", "log4j"),
    ("org.apache.kafka", "kafka"),
    ("org.apache.commons", "apache-commons"),
    ("reactor", "reactor"),
    ("io.reactivex", "rxjava"),
    ("okhttp3", "okhttp"),
    ("retrofit2", "retrofit"),
    ("android", "android"),
    ("androidx", "android"),
)
_JAVA_PLATFORM = ("java.", "javax.", "jdk.", "sun.", "com.sun.")
_RUST = {
    "actix_web": "actix",
    "async_std": "async-std",
    "axum": "axum",
    "clap": "clap",
    "diesel": "diesel",
    "futures": "futures",
    "hyper": "hyper",
    "rayon": "rayon",
    "reqwest": "reqwest",
    "rocket": "rocket",
    "serde": "serde",
    "serde_json": "serde",
    "sqlx": "sqlx",
    "tokio": "tokio",
    "tonic": "tonic",
    "tracing": "tracing",
    "warp": "warp",
}
_RUST_PLATFORM = frozenset({"std", "core", "alloc", "crate", "self", "super", "proc_macro", "test"})
_TLDS = frozenset({"com", "org", "net", "io", "dev", "edu", "gov", "co", "app", "de", "uk", "fr"})
_CODE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "golang.org"})

_PYTHON_FROM = re.compile(r"from\s+([\w.]+)\s+import")
_PYTHON_IMPORT = re.compile(r"import\s+(.+)", re.DOTALL)
_QUOTED = re.compile(r"""["'`]([^"'`]+)["'`]""")
_JAVA_IMPORT = re.compile(r"import\s+(?:static\s+)?([\w.]+)")
_RUST_USE = re.compile(r"\buse\s+(?:::)?(\w+)")


def technologies(language: str, imports: list[str]) -> list[str]:
    """The libraries the ``imports`` of a file in ``language`` name, deduped, in order."""
    return list(_technologies(language, tuple(imports)))


@lru_cache(maxsize=4096)
def _technologies(language: str, imports: tuple[str, ...]) -> tuple[str, ...]:
    """Cached: every symbol of a file shares its imports, so a file is read once."""
    found: dict[str, None] = {}
    for statement in imports:
        for module in _modules(language, statement):
            found[_library(language, module)] = None
    return tuple(found)


def _modules(language: str, statement: str) -> Iterator[str]:
    """The non-standard, non-relative modules one import statement names."""
    match language:
        case "python":
            yield from _python_modules(statement)
        case "go":
            for path in _QUOTED.findall(statement):
                if "." in path.partition("/")[0]:
                    yield path
        case "java":
            for name in (n.rstrip(".") for n in _JAVA_IMPORT.findall(statement)):  # `a.b.*`
                if not name.startswith(_JAVA_PLATFORM) or _known(_JAVA, name):
                    yield name
        case "rust":
            yield from (c for c in _RUST_USE.findall(statement) if c not in _RUST_PLATFORM)
        case _:  # javascript, typescript, tsx
            for specifier in _QUOTED.findall(statement)[-1:]:  # `from "x"` ends the statement
                if not specifier.startswith((".", "/", "node:")):
                    parts = specifier.split("/")
                    package = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
                    if package not in _NODE_BUILTINS:
                        yield package


def _python_modules(statement: str) -> Iterator[str]:
    if (found := _PYTHON_FROM.match(statement)) is not None:
        names = [found.group(1)]
    elif (found := _PYTHON_IMPORT.match(statement)) is not None:
        names = [part.split()[0] for part in found.group(1).split(",") if part.strip()]
    else:
        return
    for name in names:
        top = name.partition(".")[0]
        if top and top not in sys.stdlib_module_names and top != "__future__":
            yield top


def _library(language: str, module: str) -> str:
    """The well-known library a module belongs to, else its top-level name."""
    match language:
        case "python":
            return _PYTHON.get(module, module)
        case "rust":
            return _RUST.get(module, module)
        case "go":
            parts = module.split("/")
            return _known(_GO, module) or "/".join(parts[: 3 if parts[0] in _CODE_HOSTS else 2])
        case "java":
            parts = module.split(".")
            return _known(_JAVA, module) or ".".join(parts[: 3 if parts[0] in _TLDS else 2])
        case _:
            scope = module.partition("/")[0]
            return _JAVASCRIPT.get(module) or _JAVASCRIPT.get(scope) or module


def _known(prefixes: tuple[tuple[str, str], ...], module: str) -> str:
    """The library of the first prefix that ``module`` is (or is inside of), else ""."""
    for prefix, library in prefixes:
        if module == prefix or module.startswith((prefix + "/", prefix + ".")):
            return library
    return ""
