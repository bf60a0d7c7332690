"""Tests of the ECP5 measurement flow (atsoc.scripts.ecp5) on small Amaranth designs.

Each flow takes 1-3 s once the YoWASP tools are compiled (the very first run on a machine
spends about 30 s per tool compiling WebAssembly, cached afterwards).
"""

import json

import pytest
from amaranth import Module, Signal, ClockDomain
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from atsoc.scripts.ecp5 import Ecp5Result, _clock_name, synthesize, yosys_stat

WIDE = 300  # far more port bits than the 245 IOs of the CABGA381 package


class Tiny(wiring.Component):
    """A 16-bit counter and a wide OR-reduced input bus."""

    def __init__(self, width=WIDE):
        super().__init__({"bus": In(width), "any": Out(1), "en": In(1), "count": Out(16)})

    def elaborate(self, platform):
        m = Module()
        cnt = Signal(16)
        with m.If(self.en):
            m.d.sync += cnt.eq(cnt + 1)
        m.d.sync += self.any.eq(self.bus.any())
        m.d.comb += self.count.eq(cnt)
        return m


class Ram(wiring.Component):
    """512 x 32 bit memory, one write port and one synchronous read port."""

    waddr: In(9)
    wdata: In(32)
    we: In(1)
    raddr: In(9)
    rdata: Out(32)

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = Memory(shape=32, depth=512, init=[])
        w = mem.write_port()
        r = mem.read_port()
        m.d.comb += [w.addr.eq(self.waddr), w.data.eq(self.wdata), w.en.eq(self.we),
                     r.addr.eq(self.raddr), self.rdata.eq(r.data)]
        return m


class TwoClocks(wiring.Component):
    """A counter in each of two clock domains (sync on ``clk``, rx on the port ``rx_clk``)."""

    rx_clk: In(1)
    a: Out(12)
    b: Out(12)

    def elaborate(self, platform):
        m = Module()
        m.domains.rx = cd_rx = ClockDomain("rx", local=True, reset_less=True)
        m.d.comb += cd_rx.clk.eq(self.rx_clk)
        ca, cb = Signal(12), Signal(12)
        m.d.sync += ca.eq(ca + 1)
        m.d.rx += cb.eq(cb + 3)
        m.d.comb += [self.a.eq(ca), self.b.eq(cb)]
        return m


def _write(tmp_path, comp, name):
    path = tmp_path / f"{name}.v"
    path.write_text(verilog.convert(comp, name=name))
    return path


def test_tiny_out_of_context(tmp_path):
    src = _write(tmp_path, Tiny(), "tiny")
    r = synthesize([src], "tiny", workdir=tmp_path / "build")
    assert isinstance(r, Ecp5Result)
    assert r.lut4 > 0
    assert r.ff >= 16
    assert r.dp16kd == 0
    assert r.fmax_mhz["clk"] > 100
    assert r.target_mhz == 125.0
    # Out-of-context: no IO buffers although there are 318 port bits for 245 pins.
    assert r.nextpnr_util["TRELLIS_IO"]["used"] == 0
    assert r.nextpnr_util["TRELLIS_FF"]["used"] == r.ff
    assert r.nextpnr_util["TRELLIS_COMB"]["used"] >= r.lut4
    assert r.passed()
    for f in ("yosys.log", "nextpnr.log", "report.json", "stat.json", "result.json"):
        assert (r.log_dir / f).is_file()
    d = json.loads(json.dumps(r.to_dict()))
    assert d["fmax_mhz"]["clk"] == r.fmax_mhz["clk"]
    print(f"tiny: {r.lut4} LUT4, {r.ccu2c} CCU2C, {r.ff} FF, "
          f"Fmax {r.fmax_mhz['clk']:.1f} MHz, {r.seconds:.2f} s")


def test_in_context_pin_overflow_raises(tmp_path):
    src = _write(tmp_path, Tiny(), "tiny")
    with pytest.raises(RuntimeError, match="TRELLIS_IO"):
        synthesize([src], "tiny", workdir=tmp_path / "build", out_of_context=False)


def test_in_context_small(tmp_path):
    src = _write(tmp_path, Tiny(width=8), "tiny8")
    with pytest.warns(UserWarning, match="'nope'"):
        r = synthesize([src], "tiny8", workdir=tmp_path / "build", out_of_context=False,
                       clocks={"clk": 125.0, "nope": 50.0})
    assert r.nextpnr_util["TRELLIS_IO"]["used"] == 8 + 1 + 1 + 16 + 2  # + clk, rst
    assert set(r.fmax_mhz) == {"clk"}  # '$glbnet$clk$TRELLIS_IO_IN' normalised


def test_memory_maps_to_dp16kd(tmp_path):
    src = _write(tmp_path, Ram(), "ram")
    r = synthesize([src], "ram", workdir=tmp_path / "build")
    assert r.dp16kd >= 1
    assert r.nextpnr_util["DP16KD"]["used"] == r.dp16kd
    assert r.fmax_mhz["clk"] > 100
    cells = yosys_stat([src], "ram", workdir=tmp_path / "stat_only")
    assert cells["DP16KD"] == r.dp16kd


def test_per_clock_constraints(tmp_path):
    src = _write(tmp_path, TwoClocks(), "two")
    r = synthesize([src], "two", workdir=tmp_path / "build",
                   clocks={"clk": 100.0, "rx_clk": 200.0})
    assert set(r.fmax_mhz) == {"clk", "rx_clk"}
    assert all(f > 100 for f in r.fmax_mhz.values())
    log = (r.log_dir / "nextpnr.log").read_text()
    assert "constraining clock net 'rx_clk' to 200.00 MHz" in log
    assert "constraining clock net 'clk' to 100.00 MHz" in log


def test_clock_name_normalisation():
    assert _clock_name("$glbnet$clk$TRELLIS_IO_IN") == "clk"
    assert _clock_name("$glbnet$pll_clkop") == "pll_clkop"
    assert _clock_name("rx_clk") == "rx_clk"


def test_yosys_failure_raises(tmp_path):
    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input a, output b); assign b = ; endmodule\n")
    with pytest.raises(RuntimeError, match="yosys failed"):
        yosys_stat([bad], "bad", workdir=tmp_path / "build")
