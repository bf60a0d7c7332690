"""Ethernet MAC block tests: the cocotb testbench sim/tb/eth_mac_tb.py on the generated Verilog.

One pytest item per cocotb testcase; the seed is printed and replayable with ``ATSOC_SEED``.
"""

import pytest

from atsoc.hdl.eth.config import EthMACConfig
from atsoc.sim.tb.eth_build import eth_verilog, run_eth


GMII = EthMACConfig()

GMII_TESTS = ["reset_values", "rx_good_frames", "rx_bad_frames", "rx_filter_modes", "rx_overflow",
              "tx_frames", "both_directions", "random_differential", "arceos_init"]


@pytest.mark.parametrize("testcase", GMII_TESTS)
def test_gmii(testcase, tmp_path):
    run_eth(GMII, testcase, extra_env={"ATSOC_ETH_PCAP": str(tmp_path / "tx.pcap")})


@pytest.mark.parametrize("config", [GMII, EthMACConfig(data_width=32)], ids=["gmii8", "gmii32"])
def test_lint_clean(config):
    """Verilator -Wall is clean on the generated MAC apart from the documented waivers."""
    from atsoc.sim.runner import lint
    ok, output = lint([eth_verilog(config)], "eth_mac")
    assert ok, output


MII = EthMACConfig(phy="mii")
MII_TESTS = ["reset_values", "rx_bad_frames", "tx_frames"]


@pytest.mark.parametrize("testcase", MII_TESTS)
def test_mii(testcase, tmp_path):
    """MII nibble mode (25 MHz PHY clocks, 100 Mb/s) with cocotbext-eth's MiiSource/MiiSink."""
    run_eth(MII, testcase, extra_env={"ATSOC_ETH_PCAP": str(tmp_path / "tx.pcap")})


WIDE_TESTS = ["rx_good_frames", "tx_frames", "both_directions"]


@pytest.mark.parametrize("data_width", [32, 64])
@pytest.mark.parametrize("testcase", WIDE_TESTS)
def test_wide_stream(testcase, data_width, tmp_path):
    """32- and 64-bit AXI-Stream (TKEEP on the last beat) with random back-pressure on both
    streams; the frame sizes make every TKEEP pattern of the last beat occur."""
    run_eth(EthMACConfig(data_width=data_width), testcase,
            extra_env={"ATSOC_ETH_PCAP": str(tmp_path / "tx.pcap")})
