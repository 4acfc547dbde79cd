"""MM4 provider simulator: the MMSC the demo and the test suite talk to.

It follows seed 001 (AUTH PLAIN/LOGIN with system_id and API key, the exact command-order
replies, STARTTLS refused, VRFY unimplemented, ``250 queued as <id>``) and adds the knobs
tests need: a TLS listener, delivery reports to the platform's receiver after a delay with
a seeded outcome mix, chosen replies for chosen recipients, dropped connections, and an
.eml archive of everything accepted.

    from mms_transport.simulator import SimulatorConfig, SimulatorThread

    with SimulatorThread(SimulatorConfig(accounts={"sys1": "key1"})) as sim:
        ...  # connect to 127.0.0.1:sim.port
"""

from .config import SimulatorConfig
from .runner import SimulatorThread, run_forever, serve
from .server import MM4Server

__all__ = ["MM4Server", "SimulatorConfig", "SimulatorThread", "run_forever", "serve"]
