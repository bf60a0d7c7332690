"""The board top: clocks and reset, host bridge, system RAM, Ethernet PHY, LEDs around the SoC.

::

    oscillator --EHXPLLL--> sync (125 MHz)      reset button | ~PLL lock --> ResetSynchronizer
    UART pins <-> UARTAXILiteBridge (64-bit) --AXI4-Lite--> AXI4LiteInterconnect
                     +-- [0, 0x8000_0000): Soc.s_axil (PLIC, ATSINTC, DMA, MAC registers)
                     +-- [0x8000_0000, + RAM size): AXI4RAM host port
    Soc.m_axi (the DMA) --AXI4--> AXI4RAM (block RAM at 0x8000_0000)
    RGMII pads <-> the MAC's RGMIIAdapter (Soc with mac.phy="rgmii": io.DDRBuffer on the pads,
        10/100/1000 Mb/s following EMMC.speed; receive clocked by the PHY's RX_CLK, transmit
        by gtx_clk = the 125 MHz transmit domain, ``sync`` or ``rgmii_tx``)
    MII pads (Arty) <-> Soc mii_* pins;   MDIO pads <-> Soc mdc/mdio_*
    LEDs: heartbeat, running (PLL locked, out of reset), interrupt (any eip/notify), host
          bridge activity, MDIO activity

:class:`BoardCore` is the platform-independent part (bridge, host bus, RAM, SoC) with plain
ports; :class:`BoardTop` puts it on a board (clocks, reset, I/O buffers, LEDs). The board-level
simulation (tests/test_board_sim.py) runs :class:`BoardCore` with the RGMII pins as ports.
The SoC is :class:`atsoc.hdl.soc.soc.Soc` with a configuration from
:func:`atsoc.boards.soc_config.board_soc_config`.
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module, ResetSignal, Signal
from amaranth.lib import io, wiring
from amaranth.lib.wiring import In, Out
from amaranth.lib.cdc import ResetSynchronizer

from ..hdl.bus.axi4_ram import AXI4RAM
from ..hdl.bus.axil_interconnect import AXI4LiteInterconnect, Target
from ..hdl.bus.uart import uart_divisor
from ..hdl.bus.uart_axil import UARTAXILiteBridge
from ..hdl.soc.soc import Soc
from .catalog import BoardSpec
from .host import IRQ_EIP_SHIFT, IRQ_FIELD_BITS, IRQ_NOTIFY_SHIFT
from .pll import ECP5PLL, ecp5_pll_config


__all__ = ["RAM_BASE", "SOC_WINDOW", "BoardCore", "BoardTop"]

#: Where system RAM sits, for the host and for the SoC's DMA alike; the SoC's registers lie below.
RAM_BASE = 0x8000_0000
SOC_WINDOW = 0x8000_0000

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


def _connect_axil(m, master, slave, *, addr_or=0):
    """Connect AXI4-Lite ``master`` (an Out port) to ``slave`` (an In port) of equal data width,
    the address zero-extended (or truncated) and ORed with ``addr_or``."""
    for name, member in master.signature.members.items():
        src, dst = getattr(master, name), getattr(slave, name)
        if name in ("awaddr", "araddr"):
            m.d.comb += dst.eq(src | addr_or)
        elif member.flow == wiring.Out:
            m.d.comb += dst.eq(src)
        else:
            m.d.comb += src.eq(dst)


class BoardCore(wiring.Component):
    """The board's logic without clocking or I/O buffers: UART host bridge (64-bit), host bus,
    system RAM and the SoC, all in ``sync``.

    Parameters
    ----------
    soc_config : SocConfig
    divisor : int
        UART clock cycles per bit (``uart_divisor(sys_hz, baud)``).
    ram_bytes : int
        System RAM size (power of two), at :data:`RAM_BASE`.
    rgmii_pads : object, optional
        With ``mac.phy="rgmii"`` on a board: the platform's RGMII ports, given to the MAC's
        adapter (DDR buffers). Without them the ``rgmii_*`` pins are ports (simulation).

    Attributes
    ----------
    uart_rx : In(1), uart_tx : Out(1)
        The host bridge's UART pins (idle high).
    bridge_busy : Out(1)
        The bridge is handling a request.
    (The bridge's IRQ command reports ``eip`` and ``notify``: :data:`~.host.IRQ_EIP_SHIFT`.)
    eip, notify
        The SoC's interrupt outputs (PLIC contexts, ATSINTC harts).
    gmii_* / mii_* / gtx_clk, rgmii_*; mdc, mdio_i, mdio_o, mdio_oe
        The SoC's PHY and MDIO ports, passed through.
    """

    def __init__(self, soc_config, *, divisor: int, ram_bytes: int, rgmii_pads=None):
        if ram_bytes < 4 or ram_bytes & (ram_bytes - 1):
            raise ValueError(f"ram_bytes must be a power of two >= 4, not {ram_bytes}")
        self.soc_config = soc_config
        self.divisor = divisor
        self.ram_bytes = ram_bytes
        self._soc = Soc(soc_config, rgmii_pads=rgmii_pads)
        soc_members = self._soc.signature.members
        self._passed = {n: mb for n, mb in soc_members.items()
                        if n not in ("s_axil", "m_axi", "irq_sources")}
        super().__init__({"uart_rx": In(1, init=1), "uart_tx": Out(1), "bridge_busy": Out(1),
                          **self._passed})

    def elaborate(self, platform):
        m = Module()
        m.submodules.bridge = bridge = UARTAXILiteBridge(divisor=self.divisor, addr_width=32,
                                                         data_width=64, irq_width=64)
        m.d.comb += [bridge.rx.eq(self.uart_rx), self.uart_tx.eq(bridge.tx),
                     self.bridge_busy.eq(bridge.busy)]
        ram_bits = self.ram_bytes.bit_length() - 1
        m.submodules.host_bus = xbar = AXI4LiteInterconnect(
            [Target("soc", 0, SOC_WINDOW, SOC_WINDOW.bit_length() - 1, 64),
             Target("ram", RAM_BASE, self.ram_bytes, ram_bits, 32)],
            addr_width=32, data_width=64)
        wiring.connect(m, bridge.m_axil, xbar.s_axil)
        m.submodules.ram = ram = AXI4RAM(size_bytes=self.ram_bytes, data_width=32, addr_width=32,
                                         id_width=1, base=RAM_BASE, host_port=True)
        m.submodules.soc = soc = self._soc
        _connect_axil(m, xbar.soc, soc.s_axil)
        _connect_axil(m, xbar.ram, ram.s_axil, addr_or=RAM_BASE)
        wiring.connect(m, soc.m_axi, ram.s_axi)
        m.d.comb += soc.irq_sources.eq(0)
        # The IRQ word the host polls (boards/host.py, docs/boards.md): eip, notify.
        n_eip = min(len(soc.eip), IRQ_FIELD_BITS)
        n_notify = min(len(soc.notify), IRQ_FIELD_BITS)
        m.d.comb += [bridge.irq[IRQ_EIP_SHIFT:IRQ_EIP_SHIFT + n_eip].eq(soc.eip[:n_eip]),
                     bridge.irq[IRQ_NOTIFY_SHIFT:IRQ_NOTIFY_SHIFT + n_notify].eq(
                         soc.notify[:n_notify])]
        for name, member in self._passed.items():
            ours, theirs = getattr(self, name), getattr(soc, name)
            m.d.comb += theirs.eq(ours) if member.flow == In else ours.eq(theirs)
        return m


class BoardTop(Elaboratable):
    """Everything on the FPGA for one board.

    Parameters
    ----------
    board : BoardSpec
    soc_config : SocConfig
        The SoC's configuration (its MAC's ``phy`` must suit the board: ``rgmii`` for RGMII
        boards, ``mii`` for MII ones).
    baud : int
        UART rate of the host bridge.
    ram_bytes : int
        System RAM size (power of two).
    sys_clk_mhz : float, optional
        System clock (default: the board's, 125 MHz on the ECP5 boards). On an RGMII board a
        system clock other than 125 MHz gets a second PLL output at 125 MHz for the RGMII
        transmit side (domain ``rgmii_tx``); at 125 MHz the transmit side runs on ``sync``.

    Attributes
    ----------
    pll_config : PLLConfig or None
        The PLL dividers (``None`` on boards clocked straight from the oscillator).
    """

    def __init__(self, board: BoardSpec, soc_config, *, baud: int = 115200,
                 ram_bytes: int | None = None, sys_clk_mhz: float | None = None):
        self.board = board
        self.soc_config = soc_config
        self.baud = baud
        self.ram_bytes = ram_bytes or board.ram_bytes
        sys_mhz = float(sys_clk_mhz or board.sys_clk_mhz)
        self.sys_hz = sys_mhz * 1e6
        self.divisor = uart_divisor(self.sys_hz, baud)
        #: RGMII transmit clock domain: ``sync`` at 125 MHz, else a PLL output of its own.
        self.tx_domain = "sync" if sys_mhz == 125.0 else "rgmii_tx"
        if board.open_flow:
            outputs = [sys_mhz] + ([125.0] if board.phy == "rgmii" and sys_mhz != 125.0 else [])
            self.pll_config = ecp5_pll_config(board.clock_mhz, outputs)
        elif sys_mhz != board.clock_mhz:
            raise ValueError(f"{board.name} runs on its {board.clock_mhz:g} MHz oscillator "
                             f"(no PLL in the Verilog-only top); sys_clk_mhz {sys_mhz:g} refused")
        else:
            self.pll_config = None

    def lpf_preferences(self) -> str:
        """Extra LPF lines for the Trellis flow: the RGMII receive clock constrained on its pin.

        ``platform.add_clock_constraint`` writes ``FREQUENCY NET`` on a signal's name, and which
        of a net's names survives synthesis is up to yosys (on the Colorlight build the receive
        clock net came out as ``eth0_rx_reset.async_ff_clk`` and nextpnr ignored the constraint,
        falling back to its 12 MHz default); ``FREQUENCY PORT`` names the pin, which is stable.
        """
        if self.board.phy != "rgmii":
            return ""
        port = f"eth_rgmii_{self.board.eth[0]}__rx_clk__io"
        return f'FREQUENCY PORT "{port}" 125000000 HZ;'

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
            if self.tx_domain != "sync":
                m.domains += ClockDomain(self.tx_domain)
                m.d.comb += ClockSignal(self.tx_domain).eq(pll.clk_out[1])
                m.submodules.tx_reset = ResetSynchronizer(rst_req, domain=self.tx_domain)
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

        # -- host bridge, host bus, RAM, SoC ------------------------------------------------
        pads = None
        if b.phy == "rgmii":
            pads = platform.request("eth_rgmii", b.eth[0], dir="-")
        m.submodules.core = core = BoardCore(self.soc_config, divisor=self.divisor,
                                             ram_bytes=self.ram_bytes, rgmii_pads=pads)
        uart = platform.request("uart", b.uart, dir="-")
        m.submodules.uart_rx = uart_rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = uart_tx = io.Buffer("o", uart.tx)
        m.d.comb += [core.uart_rx.eq(uart_rx.i), uart_tx.o.eq(core.uart_tx)]

        # -- Ethernet -------------------------------------------------------------------------
        if b.phy == "rgmii":
            self._rgmii(m, platform, core, pads)
        else:
            self._mii(m, platform, core)

        # -- LEDs -----------------------------------------------------------------------------
        beat = Signal(int(self.sys_hz).bit_length())      # top bit: about 1 s per period
        m.d.sync += beat.eq(beat + 1)
        irq = core.eip.any() | core.notify.any()
        indicators = [beat[-1], ~ResetSignal("sync"), _stretch(m, irq),
                      _stretch(m, core.bridge_busy), _stretch(m, core.mdc)]
        for i in range(min(b.leds, len(indicators))):
            m.submodules[f"led{i}"] = led = io.Buffer("o", platform.request("led", i, dir="-"))
            m.d.comb += led.o.eq(indicators[i])
        return m

    def _mdio(self, m, pins, core, n=0):
        m.submodules[f"eth{n}_mdc"] = mdc = io.Buffer("o", pins.mdc)
        m.submodules[f"eth{n}_mdio"] = mdio = io.Buffer("io", pins.mdio)
        m.submodules[f"eth{n}_rst"] = rst = io.Buffer("o", pins.rst)
        # the PHY is held in reset with the system (the pin is active low, io.Buffer inverts)
        m.d.comb += [mdc.o.eq(core.mdc), mdio.o.eq(core.mdio_o), mdio.oe.eq(core.mdio_oe),
                     core.mdio_i.eq(mdio.i), rst.o.eq(ResetSignal("sync"))]

    def _rgmii(self, m, platform, core, pads):
        """The MAC's RGMII adapter is on the first port's pads (inside the SoC, DDR buffers; it
        follows EMMC.speed, 10/100/1000 Mb/s); its transmit clock is the 125 MHz transmit
        domain. The other ports' PHYs are held in reset."""
        m.d.comb += core.gtx_clk.eq(ClockSignal(self.tx_domain))
        self._mdio(m, pads, core)
        for n, index in enumerate(self.board.eth[1:], start=1):
            other = platform.request("eth_rgmii", index, dir="-")
            m.submodules[f"eth{n}_rst"] = rst = io.Buffer("o", other.rst)
            m.d.comb += rst.o.eq(1)

    def _mii(self, m, platform, core):
        """The SoC's MAC (MII pins) on the board's MII PHY."""
        pins = platform.request("eth_mii", self.board.eth[0], dir="-")
        bufs = {}
        for name, direction in (("rx_clk", "i"), ("rx_dv", "i"), ("rx_er", "i"),
                                ("rx_data", "i"), ("tx_clk", "i"), ("tx_en", "o"),
                                ("tx_data", "o")):
            m.submodules[f"eth0_{name}"] = bufs[name] = io.Buffer(direction, getattr(pins, name))
        clocks = {}
        for name in ("rx_clk", "tx_clk"):
            clocks[name] = clk = Signal(name=f"eth0_{name}")
            m.d.comb += clk.eq(bufs[name].i)
            platform.add_clock_constraint(clk, 25e6)      # MII at 100 Mb/s
        m.d.comb += [
            core.mii_rx_clk.eq(clocks["rx_clk"]), core.mii_rxd.eq(bufs["rx_data"].i),
            core.mii_rx_dv.eq(bufs["rx_dv"].i), core.mii_rx_er.eq(bufs["rx_er"].i),
            core.mii_tx_clk.eq(clocks["tx_clk"]), bufs["tx_data"].o.eq(core.mii_txd),
            bufs["tx_en"].o.eq(core.mii_tx_en),      # (no TX_ER pin on the Arty)
        ]
        self._mdio(m, pins, core)
        # The PHY's 25 MHz reference (Arty: from the FPGA), the 100 MHz system clock / 4.
        m.submodules.eth0_ref = ref = io.Buffer("o", platform.request("eth_clk25", 0, dir="-"))
        div = Signal(2)
        m.d.sync += div.eq(div + 1)
        m.d.comb += ref.o.eq(div[1])
