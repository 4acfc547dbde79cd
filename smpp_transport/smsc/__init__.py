"""SMPP 3.4 SMSC simulator: the provider the demo and the test suite talk to.

It follows seed 000 (binds with credentials, 50 submit_sm/s per bind with ESME_RTHROTTLED
above it, receipts to any receiver bind of the same system_id) and adds the knobs tests
need to reproduce provider behaviour: receipt delays and outcome mixes, hex or decimal ids,
delayed responses, TLS, crashes and restarts.

    from smpp_transport.smsc import SimulatorConfig, SimulatorThread

    with SimulatorThread(SimulatorConfig(accounts={"sys1": "pw1"})) as sim:
        ...  # connect to 127.0.0.1:sim.port
"""

from .config import SimulatorConfig
from .runner import SimulatorThread, run_forever, serve
from .server import SMSCServer

__all__ = ["SMSCServer", "SimulatorConfig", "SimulatorThread", "run_forever", "serve"]
