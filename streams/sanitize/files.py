"""Files that are secrets by nature: keys, keystores, credential stores, ``.env`` files."""

import re

from streams.sanitize.values import words as _words

_SECRET_FILE_NAMES = _words(
    """.npmrc .pypirc .netrc _netrc .git-credentials .pgpass .htpasswd .dockercfg .vault-token
    .s3cfg credentials.json id_rsa id_dsa id_ecdsa id_ed25519 terraform.tfstate"""
)
_SECRET_SUFFIXES = tuple(_words(".pem .key .p12 .pfx .jks .keystore .ppk .kdbx .keytab .tfstate"))
_SECRET_PATHS = (".aws/credentials", ".docker/config.json", ".kube/config", ".tfstate.backup")
_TEMPLATE_MARKERS = ("example", "sample", "template", "dist", "defaults", "tmpl", "tpl")


def is_secret_file(path: str) -> bool:
    """Whether the file at ``path`` is a secret by nature (keys, keystores, .env, credentials).

    ``.env``, ``.env.*`` and ``*.env`` count unless their name marks a template (``.env.example``,
    ``.env.sample``, ``.env.template``, ``.env.dist`` …); public halves (``id_rsa.pub``) do not.
    """
    normalized = path.replace("\\", "/").lower()
    name = normalized.rsplit("/", 1)[-1]
    if name in _SECRET_FILE_NAMES or name.endswith(_SECRET_SUFFIXES):
        return True
    if normalized.endswith(_SECRET_PATHS) or re.fullmatch(r"ssh_host_\w+_key", name):
        return True
    if name.startswith("client_secret") and name.endswith(".json"):
        return True
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return not any(marker in name for marker in _TEMPLATE_MARKERS)
    return False
