"""Run the loop worker (``codemill loop``): drift checks, alerts and unattended retraining.

Configured from the environment like every codemill process; ``codemill up`` starts one beside
the stream worker, pointed at its broker and its Ray cluster.
"""

import logging
import sys

import faust

from common.settings import Settings
from training.loop_app import create_loop_app


def run_loop(settings: Settings) -> None:
    app = create_loop_app(settings)
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(message)s")
    settings = Settings()
    if not settings.kafka.bootstrap:
        sys.exit("the loop worker needs CODEMILL_KAFKA_BOOTSTRAP (codemill up starts one for you)")
    run_loop(settings)


if __name__ == "__main__":
    main()
