"""What every Faust app of codemill shares (:func:`new_app`, :func:`run`): how it reaches Kafka
(Faust's aiokafka transport with a short fetch wait, registered as the ``codemill://`` scheme,
and SASL credentials), topics left to codemill's own admin, no local state, and its
Prometheus ``/metrics`` page.

Faust hard-codes ``fetch_max_wait_ms=1500``. A broker that does not wake a waiting fetch when
records arrive (the embedded Tansu broker) then adds up to 1.5 s per hop, which is most of a
push's way to Delta. 100 ms bounds that; against Kafka, which answers as soon as records are
there, it only makes idle fetches more frequent.
"""

from typing import Any

import faust
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka
from prometheus_client import generate_latest

from common.settings import KafkaSettings, Settings

FETCH_MAX_WAIT_MS = 100
SCHEME = "codemill"


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read by aiokafka when it starts
        return consumer


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"


def broker_options(kafka: KafkaSettings) -> dict[str, Any]:
    """``faust.App`` keyword arguments for the cluster: its hosts (through this transport) and
    SASL credentials when configured."""
    hosts = [host.strip() for host in kafka.bootstrap.split(",") if host.strip()]
    credentials = None
    if kafka.sasl_mechanism:
        credentials = faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value(),
            mechanism=kafka.sasl_mechanism,
        )
    return {
        "broker": ";".join(f"{SCHEME}://{host}" for host in hosts),
        "broker_credentials": credentials,
    }


def new_app(
    name: str, settings: Settings, datadir: str, web_port: int, **options: Any
) -> faust.App:
    """A Faust app (consumer group ``name``) on the configured cluster, its web server on
    ``web_port`` serving ``/metrics``; ``options`` are the app's own Faust settings."""
    app = faust.App(
        name,
        **broker_options(settings.kafka),
        store="memory://",
        datadir=str(settings.home / datadir),
        topic_allow_declare=False,  # codemill creates its topics (streams.topics)
        topic_disable_leader=True,
        web_port=web_port,
        web_host=settings.worker.host,
        **options,
    )

    @app.page("/metrics")
    async def prometheus(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.bytes(generate_latest(), content_type="text/plain")  # format 0.0.4

    return app


def run(app: faust.App, settings: Settings) -> None:
    """Run ``app`` as a Faust worker until it is stopped."""
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
