"""ECP5 PLL divider calculation (atsoc.boards.pll)."""

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Module, Signal

from atsoc.boards.pll import ECP5PLL, F_VCO_MHZ, ecp5_pll_config


@pytest.mark.parametrize("f_in", [100.0, 25.0, 50.0, 125.0, 30.0])
def test_125mhz_from_board_oscillators(f_in):
    cfg = ecp5_pll_config(f_in, [125.0])
    op = cfg.outputs[0]
    assert op.freq_mhz == pytest.approx(125.0, abs=1e-6)
    # the formula of the hardware, recomputed from the dividers
    assert f_in / cfg.clki_div * cfg.clkfb_div == pytest.approx(125.0)
    assert cfg.f_vco_mhz == pytest.approx(f_in / cfg.clki_div * cfg.clkfb_div * op.div)
    assert F_VCO_MHZ[0] <= cfg.f_vco_mhz <= F_VCO_MHZ[1]
    assert cfg.f_pfd_mhz >= 3.125
    assert op.cphase == op.div - 1            # zero phase


def test_12mhz_needs_a_tolerance():
    # 125/12 = 125/12 exactly needs PFD 1 MHz (< 3.125 MHz): refused, found within 1 %.
    with pytest.raises(ValueError, match="no EHXPLLL"):
        ecp5_pll_config(12.0, [125.0])
    cfg = ecp5_pll_config(12.0, [125.0], tolerance=0.01)
    assert abs(cfg.outputs[0].freq_mhz - 125.0) / 125.0 <= 0.01
    assert cfg.f_pfd_mhz >= 3.125


def test_known_solutions():
    cfg = ecp5_pll_config(100.0, [125.0])
    assert (cfg.clki_div, cfg.clkfb_div, cfg.outputs[0].div) == (4, 5, 6)   # PFD 25, VCO 750
    cfg = ecp5_pll_config(25.0, [125.0])
    assert (cfg.clki_div, cfg.clkfb_div, cfg.outputs[0].div) == (1, 5, 6)


def test_secondary_output_with_phase():
    cfg = ecp5_pll_config(25.0, [125.0, (125.0, 90.0), 25.0])
    op, os1, os2 = cfg.outputs
    assert op.div == os1.div                  # same frequency, same divider
    assert os1.phase_deg == pytest.approx(90.0)
    assert (os1.cphase - (os1.div - 1)) * 360 / os1.div == pytest.approx(90.0)
    assert os2.freq_mhz == pytest.approx(25.0)
    assert cfg.f_vco_mhz % 125.0 == pytest.approx(0.0)


@pytest.mark.parametrize("f_in,outs,msg", [
    (5.0, [125.0], "input"),              # below 8 MHz
    (100.0, [500.0], "output"),           # above 400 MHz
    (100.0, [125.0, 1, 2, 3, 4], "1..4"),
    (100.0, [125.0, 7.77], "no EHXPLLL"), # not reachable exactly
])
def test_impossible_requests_are_refused(f_in, outs, msg):
    with pytest.raises(ValueError, match=msg):
        ecp5_pll_config(f_in, outs)


def test_instance_parameters():
    cfg = ecp5_pll_config(100.0, [125.0, (125.0, 90.0)])
    p = cfg.parameters()
    assert p["p_CLKI_DIV"] == cfg.clki_div and p["p_FEEDBK_PATH"] == "CLKOP"
    assert p["p_CLKOS_CPHASE"] == cfg.outputs[1].cphase
    m = Module()
    m.submodules.pll = pll = ECP5PLL(cfg, Signal())
    assert len(pll.clk_out) == 2
    text = rtlil.convert(m, ports=[pll.locked, *pll.clk_out])
    assert "EHXPLLL" in text and "CLKOS_CPHASE" in text
