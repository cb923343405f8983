"""Run one Faust worker (``python -m streams.worker``), configured from the environment.

It creates any missing topic first, so a worker pointed at a fresh cluster just works.
"""

import logging
import sys

from common.faust_apps import run
from common.settings import Settings
from streams.app import create_app
from streams.topics import cluster_id, ensure_topics


def run_worker(settings: Settings) -> None:
    ensure_topics(settings.kafka)
    run(create_app(settings, cluster_id(settings.kafka)), settings)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    settings = Settings()
    if not settings.kafka.bootstrap:
        sys.exit("streams.worker needs CODEMILL_KAFKA_BOOTSTRAP (codemill up starts one for you)")
    run_worker(settings)


if __name__ == "__main__":
    main()
