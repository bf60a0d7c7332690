"""The network driver and application end to end on the RTL SoC (sim/tb/soc_net_tb.py) under
Verilator, in the PLIC and ATSINTC configurations (docs/soc.md, "End to end"). One Verilator build
per configuration: ``soc_config_for`` (the default SocConfig's, shared with tests/test_soc.py, for
``atsintc``; completion tokens off for ``plic``); random tests print their seed and
``ATSOC_SEED`` replays one."""

import pytest

from atsoc.hdl.soc.config import SocConfig
from atsoc.sim.block_build import run_block
from atsoc.sim.soc_system import CONFIGS, build, soc_config_for


def _build(config):
    from atsoc.hdl.soc.soc import Soc
    return Soc(config)


def run(config: str, testcase: str):
    run_block("soc", soc_config_for(config), _build, "atsoc.sim.tb.soc_net_tb", {"ATSOC_NET_CONFIG": config},
              testcase, timeout_s=600)


@pytest.mark.parametrize("config", ["plic", "atsintc"])
@pytest.mark.parametrize("case", ["echo", "overflow", "bus_error"])
def test_soc_net(config, case):
    run(config, case)


@pytest.mark.parametrize("config", ["plic", "atsintc"])
def test_back_to_back_replies(config):
    run(config, "back_to_back")


@pytest.mark.parametrize("config", CONFIGS)
def test_soc_config_for_tokens(config):
    """Completion tokens on exactly where the executor consumes them. With tokens on and nobody
    fetching them (``plic`` on the default SoC), the ATSINTC queue fills (256) and the DMA's token
    FIFO (16), then the DMA holds its next STATUS write-back and both channels stop for good:
    the 1472-byte burst of ``atsoc bench soc`` answered 25 of 40 after 273 completions."""
    assert soc_config_for(config).dma.completion_tokens == (config == "atsintc")
    assert SocConfig().dma.completion_tokens, "the default SoC routes tokens to the ATSINTC"
    wrong = SocConfig() if config != "atsintc" else soc_config_for("plic")
    with pytest.raises(ValueError, match="completion_tokens"):
        build(None, config, soc_config=wrong)       # refused before the DUT is touched
