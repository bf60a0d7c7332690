"""The board top: clocks and reset, host bridge, system RAM, Ethernet pins, LEDs around the SoC.

::

    oscillator --EHXPLLL--> sync (125 MHz)      reset button | ~PLL lock --> ResetSynchronizer
    UART pins <-> UARTAXILiteBridge --AXI4-Lite--> AXI4LiteDecoder --+-- 0x8000_0000: RAM host port
                                                                     +-- else: SoC s_axil
    SoC m_axi --AXI4--> AXI4RAM (block RAM, base 0x8000_0000)
    RGMII pins <-> DDR I/O buffers (amaranth.lib.io.DDRBuffer) <-> Ethernet
    LEDs: heartbeat, running (PLL locked, out of reset), SoC interrupt, UART activity,
          Ethernet receive activity per port

The SoC is any component with ``s_axil`` (AXI4-Lite slave, 32-bit address and data), ``m_axi``
(AXI4 master, 32-bit address and data) and ``irq`` (interrupt lines). Until hdl/soc/ lands the
top uses :class:`~atsoc.boards.standin.StandInSoc`; its Ethernet ports are then looped back at
the pins (RX data in the RX clock domain sent out again on TX), which exercises the DDR buffers,
the RX clock constraint and the pin constraints.
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module, Signal
from amaranth.lib import io, wiring
from amaranth.lib.cdc import ResetSynchronizer

from ..hdl.bus.axi4_ram import AXI4RAM
from ..hdl.bus.uart import uart_divisor
from ..hdl.bus.uart_axil import UARTAXILiteBridge
from .catalog import BoardSpec
from .interconnect import AXI4LiteDecoder, Window
from .pll import ECP5PLL, ecp5_pll_config


__all__ = ["RAM_BASE", "BoardTop"]

#: Where system RAM sits, for the host and for the SoC's DMA alike.
RAM_BASE = 0x8000_0000
RAM_WINDOW = 0x8000_0000

#: LED stretch: an event lights its LED for 2**STRETCH_BITS cycles (about 34 ms at 125 MHz).
STRETCH_BITS = 22


def _stretch(m, event, domain="sync", bits=STRETCH_BITS):
    """An LED signal that stays on for 2**bits cycles of ``domain`` after each ``event``."""
    count = Signal(bits, name="stretch")
    with m.If(event):
        m.d[domain] += count.eq((1 << bits) - 1)
    with m.Elif(count != 0):
        m.d[domain] += count.eq(count - 1)
    return count != 0


class BoardTop(Elaboratable):
    """Everything on the FPGA for one board.

    Parameters
    ----------
    board : BoardSpec
    soc : wiring.Component
        The SoC (or the stand-in), see the module docstring.
    baud : int
        UART rate of the host bridge.
    ram_bytes : int
        System RAM size (power of two).

    Attributes
    ----------
    pll_config : PLLConfig or None
        The PLL dividers (``None`` on boards clocked straight from the oscillator).
    """

    def __init__(self, board: BoardSpec, soc, *, baud: int = 115200, ram_bytes: int | None = None):
        self.board = board
        self.soc = soc
        self.baud = baud
        self.ram_bytes = ram_bytes or board.ram_bytes
        self.sys_hz = board.sys_clk_mhz * 1e6
        self.divisor = uart_divisor(self.sys_hz, baud)
        self.pll_config = (ecp5_pll_config(board.clock_mhz, [board.sys_clk_mhz])
                           if board.open_flow else None)

    def elaborate(self, platform):
        m = Module()
        b = self.board

        # -- clock and reset ------------------------------------------------------------------
        m.domains.sync = ClockDomain("sync")
        m.submodules.clk_buf = clk = io.Buffer("i", platform.request(b.clock, 0, dir="-"))
        rst_req = Signal()
        sys_clk = Signal()
        if self.pll_config is not None:
            m.submodules.pll = pll = ECP5PLL(self.pll_config, clk.i)
            m.d.comb += [sys_clk.eq(pll.clk_out[0]), rst_req.eq(~pll.locked)]
            locked = pll.locked
        else:
            m.d.comb += sys_clk.eq(clk.i)
            locked = 1
        m.d.comb += ClockSignal("sync").eq(sys_clk)
        if b.reset is not None:
            m.submodules.rst_buf = button = io.Buffer("i", platform.request(b.reset, 0, dir="-"))
            m.d.comb += rst_req.eq(~locked | button.i)
        if self.pll_config is None:
            platform.add_clock_constraint(sys_clk, self.sys_hz)
        # (with the PLL, nextpnr derives the constraint from the oscillator's and the dividers)
        m.submodules.reset_sync = ResetSynchronizer(rst_req, domain="sync")

        # -- host bridge, RAM, SoC ------------------------------------------------------------
        uart = platform.request("uart", b.uart, dir="-")
        m.submodules.uart_rx = uart_rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = uart_tx = io.Buffer("o", uart.tx)
        m.submodules.bridge = bridge = UARTAXILiteBridge(divisor=self.divisor, addr_width=32,
                                                         data_width=32)
        m.d.comb += [bridge.rx.eq(uart_rx.i), uart_tx.o.eq(bridge.tx)]
        m.submodules.host_bus = dec = AXI4LiteDecoder(
            [Window("soc", 0, RAM_WINDOW), Window("ram", RAM_BASE, RAM_WINDOW)])
        wiring.connect(m, bridge.m_axil, dec.s_axil)
        m.submodules.ram = ram = AXI4RAM(size_bytes=self.ram_bytes, data_width=32, addr_width=32,
                                         id_width=1, base=RAM_BASE, host_port=True)
        m.submodules.soc = soc = self.soc
        wiring.connect(m, dec.m_ram, ram.s_axil)
        wiring.connect(m, dec.m_soc, soc.s_axil)
        wiring.connect(m, soc.m_axi, ram.s_axi)

        # -- Ethernet -------------------------------------------------------------------------
        rx_activity = []
        for n, index in enumerate(b.eth):
            if b.phy == "rgmii":
                rx_activity.append(self._rgmii_loopback(m, platform, index, n))
            else:
                rx_activity.append(self._mii_loopback(m, platform, index, n))

        # -- LEDs -----------------------------------------------------------------------------
        beat = Signal(27)
        m.d.sync += beat.eq(beat + 1)
        indicators = [beat[-1], 1, _stretch(m, soc.irq.any()), _stretch(m, bridge.busy),
                      *rx_activity]
        for i in range(min(b.leds, len(indicators))):
            m.submodules[f"led{i}"] = led = io.Buffer("o", platform.request("led", i, dir="-"))
            m.d.comb += led.o.eq(indicators[i])
        return m

    # The Ethernet side of the stand-in: received data looped back to the transmitter.
    def _rgmii_loopback(self, m, platform, index, n):
        pins = platform.request("eth_rgmii", index, dir="-")
        tx_ctl = getattr(pins, "tx_ctl", None) or pins.tx_ctrl
        rx_ctl = getattr(pins, "rx_ctl", None) or pins.rx_ctrl
        dom = f"eth{n}_rx"
        m.domains += ClockDomain(dom, reset_less=True)
        m.submodules[f"eth{n}_rx_clk_buf"] = rx_clk_buf = io.Buffer("i", pins.rx_clk)
        rx_clk = Signal(name=f"eth{n}_rx_clk")
        m.d.comb += [rx_clk.eq(rx_clk_buf.i), ClockSignal(dom).eq(rx_clk)]
        # RGMII at 1 Gb/s: 125 MHz receive clock (IEEE 802.3 clause 35 / RGMII v2.0).
        platform.add_clock_constraint(rx_clk, 125e6)
        m.submodules[f"eth{n}_rxd"] = rxd = io.DDRBuffer("i", pins.rx_data, i_domain=dom)
        m.submodules[f"eth{n}_rxc"] = rxc = io.DDRBuffer("i", rx_ctl, i_domain=dom)
        m.submodules[f"eth{n}_txd"] = txd = io.DDRBuffer("o", pins.tx_data, o_domain=dom)
        m.submodules[f"eth{n}_txc"] = txc = io.DDRBuffer("o", tx_ctl, o_domain=dom)
        m.submodules[f"eth{n}_txclk"] = txclk = io.DDRBuffer("o", pins.tx_clk, o_domain=dom)
        m.submodules[f"eth{n}_rst"] = phy_rst = io.Buffer("o", pins.rst)
        m.submodules[f"eth{n}_mdc"] = mdc = io.Buffer("o", pins.mdc)
        m.submodules[f"eth{n}_mdio"] = mdio = io.Buffer("io", pins.mdio)
        m.d.comb += [
            txd.o[0].eq(rxd.i[0]), txd.o[1].eq(rxd.i[1]),
            txc.o[0].eq(rxc.i[0]), txc.o[1].eq(rxc.i[1]),
            txclk.o[0].eq(1), txclk.o[1].eq(0),
            phy_rst.o.eq(0), mdc.o.eq(0), mdio.oe.eq(0),
        ]
        return _stretch(m, rxc.i[0], domain=dom)

    def _mii_loopback(self, m, platform, index, n):
        pins = platform.request("eth_mii", index, dir="-")
        bufs = {}
        for name, direction in (("rx_clk", "i"), ("rx_dv", "i"), ("rst", "o"), ("mdc", "o"),
                                ("mdio", "io"), ("tx_en", "o")):
            m.submodules[f"eth{n}_{name}"] = bufs[name] = io.Buffer(direction, getattr(pins, name))
        dom = f"eth{n}_rx"
        m.domains += ClockDomain(dom, reset_less=True)
        rx_clk = Signal(name=f"eth{n}_rx_clk")
        m.d.comb += [rx_clk.eq(bufs["rx_clk"].i), ClockSignal(dom).eq(rx_clk)]
        platform.add_clock_constraint(rx_clk, 25e6)       # MII at 100 Mb/s
        m.d.comb += [bufs["rst"].o.eq(0), bufs["mdc"].o.eq(0), bufs["mdio"].oe.eq(0),
                     bufs["tx_en"].o.eq(0)]
        # The PHY's 25 MHz reference (Arty: from the FPGA), the system clock divided by 4.
        m.submodules[f"eth{n}_ref"] = ref = io.Buffer("o", platform.request("eth_clk25", 0, dir="-"))
        div = Signal(2)
        m.d.sync += div.eq(div + 1)
        m.d.comb += ref.o.eq(div[1])
        return _stretch(m, bufs["rx_dv"].i, domain=dom)
