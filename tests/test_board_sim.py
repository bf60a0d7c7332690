"""Board-level simulation (amaranth.sim): the host path of an RGMII board as on the board, UART
bytes at the bridge's protocol -> host bus -> SoC (small preset) and RAM, driven by the
reference drivers through :class:`atsoc.boards.host.SerialMmio`, the code a user runs against
a board, over a simulated serial port (sim/tb/board_sim.py)."""

import pytest

from atsoc.boards.host import ProtocolError, SerialMmio, encode_read
from atsoc.boards.top import RAM_BASE
from atsoc.sim.driver.atsintc import AtsIntcDriver, AtsIntcInfo
from atsoc.sim.driver.eth_mac import INT_RX_RJECT, AxiEthernetDriver
from atsoc.sim.driver.mmio import BusError, Resp
from atsoc.sim.driver.plic import PlicDriver
from atsoc.sim.driver.regs import eth_mac as RE
from atsoc.sim.driver.regs import plic as RP
from atsoc.sim.tb.board_sim import BoardSim, run_board


async def expect_error(access, resp):
    try:
        await access
    except BusError as e:
        assert e.resp == resp, f"{e}: expected {resp.name}"
    else:
        raise AssertionError(f"expected {resp.name}, got OKAY")


def test_register_sequences_over_the_uart():
    """ATSINTC info, a task enqueued and dequeued, PLIC priorities (xv6's plicinit), the MAC's
    identification and address registers, RAM accesses of every width, and errors: a hole in the
    SoC's map and an address past the RAM answer DECERR."""
    dut = BoardSim()
    c = dut.soc_config
    seen = {}

    async def body(ctx, mmio, dut):
        assert mmio.bus_bytes == 8
        ats = AtsIntcDriver(mmio, c.atsintc_base)
        info = await ats.probe()
        assert info == AtsIntcInfo.from_config(c.atsintc)
        await ats.ps_push(1, 0x1234_5678_9ABC_DEF0, 1)
        await ats.ps_push(1, 0x42, 0)
        assert await ats.count(1) == 2
        assert await ats.ps_fetch(1) == 0x42                    # priority 0 first
        assert await ats.ps_fetch(1) == 0x1234_5678_9ABC_DEF0
        assert await ats.ps_fetch(1) == 0                       # empty

        plic = PlicDriver(mmio, c.plic_base, c.plic.sources, c.plic.contexts)
        await plic.xv6_plicinit([1, 2, 3])
        await mmio.write(c.plic_base + RP.priority(5), 6)
        assert [await mmio.read(c.plic_base + RP.priority(n)) for n in (1, 2, 3, 4, 5)] == \
            [1, 1, 1, 0, 6]

        mac = AxiEthernetDriver(mmio, c.mac_base)
        assert await mac.rd(RE.ID) == RE.ID_RESET
        await mac.set_mac_address(bytes.fromhex("02a0b0c0d0e0"))
        assert await mac.get_mac_address() == bytes.fromhex("02a0b0c0d0e0")

        await mmio.write(RAM_BASE + 0x10, 0x0123_4567_89AB_CDEF, 64)
        await mmio.write(RAM_BASE + 0x11, 0x55, 8)
        await mmio.write(RAM_BASE + 0x16, 0xBEEF, 16)
        assert await mmio.read(RAM_BASE + 0x10) == 0x89AB_55EF
        assert await mmio.read(RAM_BASE + 0x14) == 0xBEEF_4567
        assert await mmio.read(RAM_BASE + 0x16, 16) == 0xBEEF
        # a 64-bit load of the 32-bit RAM port: the addressed word on both halves (the
        # interconnect's lane conversion, as for the SoC's 32-bit blocks)
        assert await mmio.read(RAM_BASE + 0x10, 64) == 0x89AB_55EF_89AB_55EF

        await expect_error(mmio.read(0x2000_0000), Resp.DECERR)          # hole in the SoC map
        await expect_error(mmio.write(0x2000_0000, 1), Resp.DECERR)
        await expect_error(mmio.read(RAM_BASE + 4096), Resp.DECERR)      # past the RAM
        # the bridge is in sync after the errors
        assert await mmio.read(RAM_BASE + 0x14) == 0xBEEF_4567
        seen["done"] = True

    run_board(body, dut)
    assert seen.get("done")


def test_rgmii_speed_follows_emmc():
    """The board's RGMII transmit clock follows EMMC.speed written over the UART: 125 MHz at
    1 Gb/s (the reset value), 25 MHz at 100 Mb/s (the driver's set_operating_speed), 2.5 MHz
    at 10 Mb/s (EMMC written directly: the crate has no 10 Mb/s case), and back to 125 MHz."""
    dut = BoardSim()
    c = dut.soc_config
    edges = [0]
    rates = {}
    window = 1000                                   # 8 us of 125 MHz cycles

    async def count_edges(ctx):
        # The pin is a DDR output: sampled in both halves of every cycle, rising edges counted.
        last = 0
        while True:
            await ctx.tick()
            for delay in (2e-9, 4e-9):
                await ctx.delay(delay)
                value = ctx.get(dut.rgmii_tx_clk)
                edges[0] += value & ~last & 1
                last = value

    async def measure(ctx, name):
        await ctx.tick().repeat(20)                 # the synchroniser's few cycles
        start = edges[0]
        await ctx.tick().repeat(window)
        rates[name] = (edges[0] - start) / (window * 8e-9) / 1e6     # MHz

    async def body(ctx, mmio, dut):
        mac = AxiEthernetDriver(mmio, c.mac_base)
        assert (await mac.rd(RE.EMMC)) >> RE.EMMC_SPEED_SHIFT == 0b10
        await measure(ctx, "1000 (reset)")
        await mac.set_operating_speed(100)
        assert (await mac.rd(RE.EMMC)) >> RE.EMMC_SPEED_SHIFT == 0b01
        await measure(ctx, "100")
        await mac.wr(RE.EMMC, 0)
        await measure(ctx, "10")
        await mac.set_operating_speed(1000)
        await measure(ctx, "1000")

    run_board(body, dut, background=[count_edges])
    print(rates)
    assert rates["1000 (reset)"] == pytest.approx(125.0, abs=0.2)
    assert rates["100"] == pytest.approx(25.0, abs=0.2)
    assert rates["10"] == pytest.approx(2.5, abs=0.2)
    assert rates["1000"] == pytest.approx(125.0, abs=0.2)


async def send_rgmii_nibbles(ctx, dut, frame: bytes):
    """A frame on the RGMII receive pins at 10/100 Mb/s: preamble, SFD, ``frame``; a nibble per
    receive clock (low nibble first), RX_CTL = RX_DV on both edges."""
    for byte in bytes([0x55] * 7 + [0xD5]) + frame:
        for nibble in (byte & 0xF, byte >> 4):
            ctx.set(dut.rgmii_rx_ctl, 1)
            ctx.set(dut.rgmii_rxd, nibble)
            await ctx.tick()
    ctx.set(dut.rgmii_rx_ctl, 0)
    ctx.set(dut.rgmii_rxd, 0)
    await ctx.tick().repeat(20)


def test_interrupt_wait_over_the_uart():
    """Interrupts seen from the host through the bridge's IRQ command. The MAC at 100 Mb/s
    (ArceOS's init_hw, start, enable_rx_rject, set_operating_speed) receives a broadcast frame
    with a bad FCS on the RGMII pins: IS.RxRject, the MAC's line, PLIC source ``mac`` to eip of
    xv6's S-mode context, waited for with ``wait_irq``, claimed, cleared and completed. Then an
    ATSINTC IPC wake raises ``notify`` of the receiving process's hart (``wait_notify``) until
    the handler word is dequeued; a wait with nothing pending times out."""
    dut = BoardSim()
    c = dut.soc_config
    seen = {}

    async def body(ctx, mmio, dut):
        mmio.irq_polls = 20                 # each poll: 10 UART bytes; the lines rise at once
        assert await mmio.irq_lines() == (0, 0)
        plic = PlicDriver(mmio, c.plic_base, c.plic.sources, c.plic.contexts)
        irq = c.plic_irq("mac")
        context = plic.s_mode_context(0)
        await plic.xv6_plicinit([irq])
        await plic.xv6_plicinithart(0, [irq])
        mac = AxiEthernetDriver(mmio, c.mac_base)
        await mac.init_hw()
        await mac.set_operating_speed(100)
        await mac.start()
        await mac.enable_rx_rject()
        assert await mmio.irq_lines() == (0, 0)
        frame = b"\xff" * 6 + bytes.fromhex("02000000abcd") + b"\x88\xb5" + bytes(46)
        await send_rgmii_nibbles(ctx, dut, frame + b"\x00\x00\x00\x00")    # bad FCS
        await mmio.wait_irq(context)
        assert (await mmio.irq_lines())[0] == 1 << context
        assert await mac.rd(RE.INTR_STATUS) & INT_RX_RJECT
        assert await plic.xv6_claim(0) == irq
        await mac.clear_intr(INT_RX_RJECT)
        await plic.xv6_complete(0, irq)
        assert await mmio.irq_lines() == (0, 0)

        ats = AtsIntcDriver(mmio, c.atsintc_base, c.atsintc)
        await ats.notify_enable(1, 0)
        await ats.ipc_register(1, 0, 0x77)
        assert (await mmio.irq_lines())[1] == 0
        await ats.ipc_send(0, 1, 0)
        await mmio.wait_notify(0)
        assert await ats.ps_fetch(1) == 0x77
        assert await mmio.irq_lines() == (0, 0)
        mmio.irq_polls = 3
        with pytest.raises(TimeoutError, match="notify"):
            await mmio.wait_notify(0)
        seen["done"] = True

    run_board(body, dut)
    assert seen.get("done")


def test_serial_mmio_on_a_synchronous_port():
    """SerialMmio on a pyserial-like (synchronous) port: PING in the constructor, reads and
    writes, a NAK and a short response are ProtocolErrors, DECERR a BusError."""
    import asyncio

    class FakePort:
        def __init__(self, answers):
            self.answers, self.sent = list(answers), []

        def write(self, data):
            self.sent.append(bytes(data))
            return len(data)

        def read(self, n):
            return self.answers.pop(0)[:n]

    port = FakePort([bytes([0xA5, 8]), bytes([0xA0]) + (0xCAFE).to_bytes(4, "little"),
                     bytes([0xA3, 0, 0, 0, 0]), bytes([0xA0]), bytes([0xA0, 1])])
    mmio = SerialMmio(port)
    assert mmio.bus_bytes == 8 and port.sent == [b"\x00"]
    assert asyncio.run(mmio.read(0x8000_0002, 16)) == 0
    assert port.sent[-1] == encode_read(0x8000_0000)
    with pytest.raises(BusError, match="DECERR"):
        asyncio.run(mmio.read(0x2000_0000))
    asyncio.run(mmio.write(0x8000_0001, 0xAB, 8))
    assert port.sent[-1] == bytes([0x02, 0, 0, 0, 0x80, 0b0010, 0, 0xAB, 0, 0])
    with pytest.raises(ProtocolError, match="timeout: 2 of 5"):
        asyncio.run(mmio.read(0x8000_0000))
    nak = SerialMmio(FakePort([bytes([0xA5, 4]), bytes([0xFF])]))
    with pytest.raises(ProtocolError, match="NAK"):
        asyncio.run(nak.read(0x0, 64))
