"""The board's host path in ``amaranth.sim``: :class:`atsoc.boards.top.BoardCore` (UART host
bridge -> host bus -> SoC and RAM) as it runs on an RGMII board, with the clocking a board top
gives it and the RGMII pins as signals, driven through :class:`SerialMmio` over
:class:`~atsoc.sim.tb.board_uart.SimSerialPort` by the reference drivers.

What is left out compared with :class:`atsoc.boards.top.BoardTop`: the PLL (the simulator makes
the 125 MHz clock), the reset synchroniser, I/O and DDR primitives (the MAC's RGMII adapter uses
its behavioural DDR registers, the simulation form of the same adapter) and the LEDs.
"""

from __future__ import annotations

from amaranth.hdl import ClockSignal, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from ...boards.catalog import BOARDS
from ...boards.host import SerialMmio
from ...boards.soc_config import board_soc_config
from ...boards.top import BoardCore
from .board_uart import SimSerialPort


__all__ = ["SYS_PERIOD", "DIVISOR", "BoardSim", "run_board"]

#: 125 MHz, as on the ECP5 boards (the RGMII transmit side runs on it too).
SYS_PERIOD = 8e-9
#: UART bit time in clock cycles: the shortest the UART accepts, to keep the simulation short
#: (the protocol does not depend on it; a board at 115200 baud and 125 MHz uses 1085).
DIVISOR = 4


class BoardSim(wiring.Component):
    """``BoardCore`` for ``board`` with a board top's clocking: the MAC's RGMII transmit clock
    is the 125 MHz system clock; the PHY's receive clock is the same clock (the adapter takes a
    byte per edge pair at 1 Gb/s, a nibble per rising edge at 10/100, whatever the clock's
    rate), with RX_CTL and RXD driven by the testbench; MDIO is pulled up.

    Attributes
    ----------
    uart_rx, uart_tx : the host bridge's pins.
    rgmii_tx_clk, rgmii_tx_ctl, rgmii_txd : the RGMII transmit pins.
    rgmii_rx_ctl, rgmii_rxd : the RGMII receive pins (idle low).
    eip, notify : the SoC's interrupt outputs.
    """

    def __init__(self, board: str = "versa_ecp5", preset: str = "small", ram_bytes: int = 4096):
        self.soc_config = board_soc_config(BOARDS[board], preset=preset)
        self.core = BoardCore(self.soc_config, divisor=DIVISOR, ram_bytes=ram_bytes)
        c = self.soc_config
        super().__init__({
            "uart_rx": In(1, init=1), "uart_tx": Out(1),
            "rgmii_tx_clk": Out(1), "rgmii_tx_ctl": Out(1), "rgmii_txd": Out(4),
            "rgmii_rx_ctl": In(1), "rgmii_rxd": In(4),
            "eip": Out(c.plic.contexts), "notify": Out(c.atsintc.harts),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        m.d.comb += [
            core.uart_rx.eq(self.uart_rx), self.uart_tx.eq(core.uart_tx),
            core.gtx_clk.eq(ClockSignal("sync")), core.rgmii_rx_clk.eq(ClockSignal("sync")),
            core.rgmii_rx_ctl.eq(self.rgmii_rx_ctl), core.rgmii_rxd.eq(self.rgmii_rxd),
            core.mdio_i.eq(1),
            self.rgmii_tx_clk.eq(core.rgmii_tx_clk), self.rgmii_tx_ctl.eq(core.rgmii_tx_ctl),
            self.rgmii_txd.eq(core.rgmii_txd),
            self.eip.eq(core.eip), self.notify.eq(core.notify),
        ]
        return m


def run_board(body, dut: BoardSim | None = None, *, background=(), vcd: str | None = None):
    """Simulate ``dut`` (a :class:`BoardSim`) and run ``await body(ctx, mmio, dut)`` in a
    testbench, ``mmio`` a :class:`SerialMmio` on the simulated UART (already PINGed).
    ``background``: more testbenches (monitors) run alongside."""
    dut = dut or BoardSim()
    port = SimSerialPort(dut.uart_rx, dut.uart_tx, DIVISOR)
    sim = Simulator(dut)
    sim.add_clock(SYS_PERIOD)
    sim.add_testbench(port.receiver, background=True)
    for testbench in background:
        sim.add_testbench(testbench, background=True)

    async def tb(ctx):
        port.attach(ctx)
        await ctx.tick().repeat(10)
        mmio = SerialMmio(port)
        await mmio.ping()
        await body(ctx, mmio, dut)
        assert port.framing_errors == 0, "the bridge sent a byte with a bad stop bit"

    sim.add_testbench(tb)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return dut
