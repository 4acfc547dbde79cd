"""kombu's file-system transport, with atomic writes: the broker of ``make run``.

kombu writes a message file in place, so a consumer polling the folder can move and read
it while it is still empty and crash on the JSON (seen with several workers). Here the
payload is written to a temporary file beside the queue folder and renamed into it, which
is atomic on one file system. Registered as the ``filesystem://`` transport by
``config.celery``. It still has no redelivery: the database sweeper
(``campaigns.services.dispatch.recover_stalled``) is what recovers a lost batch.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


def transport_options(broker_dir: Path) -> dict[str, Any]:
    """CELERY_BROKER_TRANSPORT_OPTIONS for a broker in ``broker_dir``, its folders made: every
    local process (web, beat, workers) must poll the same ones."""
    for folder in ("processed", "queue", "control"):
        (broker_dir / folder).mkdir(parents=True, exist_ok=True)
    return {
        "control_folder": str(broker_dir / "control"),
        "data_folder_in": str(broker_dir / "queue"),
        "data_folder_out": str(broker_dir / "queue"),
        "processed_folder": str(broker_dir / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        filename = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        staging = os.path.join(os.path.dirname(os.path.abspath(self.data_folder_out)), "staging")
        os.makedirs(staging, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=staging, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(tmp, os.path.join(self.data_folder_out, filename))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {filename!r} to directory: {exc}") from exc


class Transport(filesystem.Transport):
    Channel = Channel
