"""The network driver and application end to end on the RTL SoC (sim/tb/soc_net_tb.py) under
Verilator, in the PLIC and ATSINTC configurations (docs/soc.md, "End to end"). One Verilator build
(the default SocConfig's, shared with tests/test_soc.py); random tests print their seed and
``ATSOC_SEED`` replays one."""

import pytest

from atsoc.hdl.soc.config import SocConfig
from atsoc.sim.block_build import run_block


def _build(config):
    from atsoc.hdl.soc.soc import Soc
    return Soc(config)


def run(config: str, testcase: str):
    run_block("soc", SocConfig(), _build, "atsoc.sim.tb.soc_net_tb", {"ATSOC_NET_CONFIG": config},
              testcase, timeout_s=600)


@pytest.mark.parametrize("config", ["plic", "atsintc"])
@pytest.mark.parametrize("case", ["echo", "overflow", "bus_error"])
def test_soc_net(config, case):
    run(config, case)


@pytest.mark.parametrize("config", ["plic", "atsintc"])
def test_back_to_back_replies(config):
    run(config, "back_to_back")
