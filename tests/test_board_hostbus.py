"""The board's host path in amaranth.sim: UART bridge (64-bit) -> AXI4LiteInterconnect -> RAM host
port (32-bit, lane conversion) and a register slave that accepts AW and W only together
(AXI4LiteBridge), with SLVERR from the slave and DECERR outside every window."""

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.sim import Simulator

from atsoc.boards.host import decode_response, encode_ping, encode_read, encode_write
from atsoc.boards.top import _connect_axil
from atsoc.hdl.bus.axi4_ram import AXI4RAM
from atsoc.hdl.bus.axi_lite import AXI4LiteBridge
from atsoc.hdl.bus.axil_interconnect import AXI4LiteInterconnect, Target
from atsoc.hdl.bus.uart_axil import UARTAXILiteBridge

from test_uart_axil import DIV, recv_loop, send_bytes

RAM_BASE = 0x8000_0000


class HostPath(wiring.Component):
    """The board's host path: 64-bit bridge, interconnect (a 32-bit register window below
    0x8000_0000 standing for the SoC, the RAM above), RAM host port."""

    def __init__(self):
        super().__init__({"rx": wiring.In(1, init=1), "tx": wiring.Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.bridge = bridge = UARTAXILiteBridge(divisor=DIV, data_width=64)
        m.submodules.xbar = xbar = AXI4LiteInterconnect(
            [Target("regs", 0x1000_0000, 0x1000, 12, 32), Target("ram", RAM_BASE, 1024, 10, 32)],
            addr_width=32, data_width=64)
        m.submodules.ram = ram = AXI4RAM(size_bytes=1024, base=RAM_BASE, host_port=True)
        m.submodules.regs = regs = AXI4LiteBridge(addr_width=12, data_width=32, read_latency=1)
        m.d.comb += [bridge.rx.eq(self.rx), self.tx.eq(bridge.tx)]
        wiring.connect(m, bridge.m_axil, xbar.s_axil)
        _connect_axil(m, xbar.ram, ram.s_axil, addr_or=RAM_BASE)
        wiring.connect(m, xbar.regs, regs.axi)
        # a register target: one 32-bit register at 0x0 and 0x4, error from offset 0x10
        reg = regs.reg
        store = Signal(32)
        with m.If(reg.w_stb & (reg.addr < 0x10)):
            m.d.sync += store.eq(reg.w_data)
        m.d.comb += [reg.w_err.eq(reg.addr >= 0x10)]
        with m.If(reg.r_stb):
            m.d.sync += [reg.r_data.eq(store), reg.r_err.eq(reg.addr >= 0x10)]
        return m


def test_host_reaches_ram_and_registers_and_gets_decerr():
    dut = HostPath()
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []
    results = []

    async def receiver(ctx):
        await recv_loop(ctx, dut.tx, got)

    async def tb(ctx):
        async def transact(req, n):
            start = len(got)
            await send_bytes(ctx, dut.rx, req)
            while len(got) - start < n:
                await ctx.tick()
            return decode_response(req, bytes(got[start:start + n]))

        results.append(await transact(encode_ping(), 2))
        results.append(await transact(encode_write(RAM_BASE + 0x48, 0x1122334455667788, 64), 1))
        results.append(await transact(encode_read(RAM_BASE + 0x4C), 5))
        results.append(await transact(encode_write(RAM_BASE + 0x40, 0xCAFEF00D), 1))
        results.append(await transact(encode_read(RAM_BASE + 0x40), 5))
        results.append(await transact(encode_read(RAM_BASE + 0x400), 5))   # beyond the RAM: DECERR
        results.append(await transact(encode_write(0x1000_0004, 0x1234_5678), 1))
        results.append(await transact(encode_read(0x1000_0000), 5))
        results.append(await transact(encode_read(0x1000_0020), 5))        # register error
        results.append(await transact(encode_write(0x2000_0000, 1), 1))     # no window
        results.append(await transact(encode_read(0x0000_0000), 5))         # no window

    sim.add_testbench(receiver, background=True)
    sim.add_testbench(tb)
    sim.run()
    assert results == [(0, 8), (0, None), (0, 0x11223344), (0, None), (0, 0xCAFEF00D), (3, results[5][1]), (0, None),
                       (0, 0x1234_5678), (2, results[8][1]), (3, None), (3, results[10][1])]


@pytest.mark.parametrize("irq_width", [0, 8])
def test_irq_command(irq_width):
    """IRQ (0x05) returns the bridge's ``irq`` input zero-extended to 64 bits, sampled per
    request; a bridge without the input answers NAK. Widths outside 0..64 are refused."""
    from atsoc.boards.host import ProtocolError, encode_irq
    dut = UARTAXILiteBridge(divisor=DIV, data_width=64, irq_width=irq_width)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got, results = [], []

    async def receiver(ctx):
        await recv_loop(ctx, dut.tx, got)

    async def tb(ctx):
        ctx.set(dut.rx, 1)
        for value in (0xA5, 0x01):
            if irq_width:
                ctx.set(dut.irq, value)
            start = len(got)
            await send_bytes(ctx, dut.rx, encode_irq())
            for _ in range(DIV * 10 * 12):
                await ctx.tick()
            try:
                results.append(decode_response(encode_irq(), bytes(got[start:])))
            except ProtocolError as e:
                results.append(str(e))

    sim.add_testbench(receiver, background=True)
    sim.add_testbench(tb)
    sim.run()
    if irq_width:
        assert results == [(0, 0xA5), (0, 0x01)]
    else:
        assert all("NAK" in r for r in results), results
    with pytest.raises(ValueError, match="irq_width must be 0..64"):
        UARTAXILiteBridge(divisor=DIV, irq_width=65)
