"""The network driver and application end to end on the RTL SoC (sim/tb/soc_net_tb.py) under
Verilator, in the PLIC and ATSINTC configurations (docs/soc.md, "End to end"). One Verilator build
shared by both configurations (the default SocConfig's, also tests/test_soc.py's: the ``plic``
driver leaves the DMA's run-time token enable clear); random tests print their seed and
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
    """Every configuration runs on the default SoC (completion tokens built in): only ``atsintc``
    enables them at run time (DMACR.TokenEn), so ``plic`` never fills a token queue nobody
    fetches (before that enable existed, the DMA stopped after 273 completions: the 1472-byte
    burst of ``atsoc bench soc`` answered 25 of 40). ``atsintc`` on a SoC built without tokens is
    refused before the DUT is touched."""
    import dataclasses
    assert SocConfig().dma.completion_tokens, "the default SoC routes tokens to the ATSINTC"
    assert soc_config_for(config) == SocConfig()
    tokenless = dataclasses.replace(SocConfig(), dma=dataclasses.replace(SocConfig().dma,
                                                                         completion_tokens=False))
    assert soc_config_for(config, tokenless).dma.completion_tokens == (config == "atsintc")
    if config == "atsintc":
        with pytest.raises(ValueError, match="completion_tokens"):
            build(None, config, soc_config=tokenless)
