"""Run the loop worker (``codemill loop``): drift checks, alerts and unattended retraining.

Configured from the environment like every codemill process; ``codemill up`` starts one beside
the stream worker, pointed at its broker and its Ray cluster.
"""

import logging
import sys

from common.faust_apps import run
from common.settings import Settings
from training.loop_app import create_loop_app


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(message)s")
    settings = Settings()
    if not settings.kafka.bootstrap:
        sys.exit("the loop worker needs CODEMILL_KAFKA_BOOTSTRAP (codemill up starts one for you)")
    run(create_loop_app(settings), settings)


if __name__ == "__main__":
    main()
