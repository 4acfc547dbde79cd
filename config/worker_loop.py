"""Make Celery send late acks promptly from threads-pool workers.

A task finished in a pool thread is acknowledged by the consumer's loop thread (py-amqp
is not thread-safe), which only looks at such deferred work when its poll returns: up to
a couple of seconds when nothing else happens (celery/celery#6941, #10263). With
prefetch 1 the broker sends the next task only after that ack, so a bind worker would sit
idle most of the time. This consumer bootstep bounds the wait at 20 ms: with the event
hub (AMQP) by a repeating no-op timer, which shortens the poll; without it (virtual
transports) by the same blocking loop as Celery's ``synloop`` with a short timeout.
"""

from __future__ import annotations

from celery import bootsteps
from celery.worker import state
from celery.worker.loops import synloop

DRAIN_TIMEOUT_S = 0.02


def prompt_ack_synloop(obj, connection, consumer, blueprint, hub, qos, heartbeat, clock, hbrate=2.0, **kwargs):
    """Celery's ``synloop`` (5.5) with a short ``drain_events`` timeout."""
    run = bootsteps.RUN
    on_task_received = obj.create_task_handler()
    perform_pending_operations = obj.perform_pending_operations
    consumer.on_message = on_task_received
    consumer.consume()
    obj.on_ready()
    while blueprint.state == run and obj.connection:
        state.maybe_shutdown()
        if qos.prev != qos.value:
            qos.update()
        try:
            perform_pending_operations()
            connection.drain_events(timeout=DRAIN_TIMEOUT_S)
        except TimeoutError:
            pass
        except OSError:
            if blueprint.state == run:
                raise
    perform_pending_operations()


class PromptAckLoop(bootsteps.StartStopStep):
    """Consumer bootstep: use :func:`prompt_ack_synloop` wherever Celery would use synloop."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, c) -> None:
        if c.hub is not None:
            if not getattr(c, "_prompt_ack_timer", None):
                c._prompt_ack_timer = c.hub.timer.call_repeatedly(DRAIN_TIMEOUT_S, _noop)
        elif c.loop is synloop:
            c.loop = prompt_ack_synloop


def _noop() -> None:
    """A timer entry whose only job is to make the event loop wake up."""
