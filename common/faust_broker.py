"""How every Faust app of codemill reaches Kafka: :func:`broker_options`, and Faust's aiokafka
transport with a short fetch wait, registered as the ``codemill://`` scheme.

Faust hard-codes ``fetch_max_wait_ms=1500``. A broker that does not wake a waiting fetch when
records arrive (the embedded Tansu broker) then adds up to 1.5 s per hop, which is most of a
push's way to Delta. 100 ms bounds that; against Kafka, which answers as soon as records are
there, it only makes idle fetches more frequent.
"""

from typing import Any

import faust
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

from common.settings import KafkaSettings

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
