"""A queue consumer that hands its worker a batch of messages instead of one.

Under a storm, one worker per message means one transaction and one RPC per alert; a
batch shares them. Messages wait at most `linger_seconds` for company, so a lone alert
is not held back. The batch is acknowledged only when its worker has finished, and
requeued as a whole if the worker fails: handlers must be idempotent, as every
redelivered message already requires.
"""

import contextlib
import logging
from functools import partial

import eventlet
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

logger = logging.getLogger("klaxon.batching")
DEFAULT_BATCH_SIZE = 100
DEFAULT_LINGER_SECONDS = 0.01


class BatchQueueConsumer(QueueConsumer):
    """Its own connection, so the batch queue's prefetch is not capped by max_workers:
    two full batches, one in the works while the next one fills."""

    @property
    def prefetch_count(self):
        return 2 * int(self.container.config.get("BATCH_SIZE", DEFAULT_BATCH_SIZE))


class BatchConsumer(Consumer):
    queue_consumer = BatchQueueConsumer()

    def __init__(self, queue, batch_size=None, linger_seconds=None, **kwargs):
        super().__init__(queue, requeue_on_error=True, **kwargs)
        self.batch_size = batch_size
        self.linger_seconds = linger_seconds
        self.pending = []
        self.timer = None

    def setup(self):
        """Sizes given to the decorator win; else the service's config (KLAXON_BATCH_*)."""
        config = self.container.config
        if self.batch_size is None:
            self.batch_size = int(config.get("BATCH_SIZE", DEFAULT_BATCH_SIZE))
        if self.linger_seconds is None:
            self.linger_seconds = float(config.get("BATCH_LINGER_SECONDS", DEFAULT_LINGER_SECONDS))
        super().setup()

    def handle_message(self, body, message):
        self.pending.append((body, message))
        if len(self.pending) >= self.batch_size:
            self.flush()
        elif self.timer is None:
            self.timer = eventlet.spawn_after(self.linger_seconds, self.flush)

    def flush(self):
        # Take the batch first: cancelling the timer yields to the hub, where the next
        # message may arrive and must start a batch of its own.
        batch, self.pending = self.pending, []
        timer, self.timer = self.timer, None
        if timer is not None and timer is not eventlet.getcurrent():
            timer.cancel()
        if not batch:
            return
        messages = [message for _, message in batch]
        try:
            self.container.spawn_worker(
                self,
                ([body for body, _ in batch],),
                {},
                context_data=self.unpack_message_headers(messages[0]),
                handle_result=partial(self.handle_batch_result, messages),
            )
        except ContainerBeingKilled:
            self._requeue(messages)

    def handle_batch_result(self, messages, worker_ctx, result=None, exc_info=None):
        for message in messages:
            self.handle_message_processed(message, result, exc_info)
        return result, exc_info

    def _requeue(self, messages):
        # On a closing connection the broker takes them back by itself.
        for message in messages:
            with contextlib.suppress(Exception):
                self.queue_consumer.requeue_message(message)


consume_batches = BatchConsumer.decorator
