"""Unit tests of the MAC's pieces that need no Verilator: CRC equations, register map, driver
constants against the map, the reference model's rules, and the MDIO master under amaranth.sim."""

import random
import zlib

import pytest
from amaranth.hdl import Signal
from amaranth.sim import Simulator

from atsoc.hdl.eth.config import EthMACConfig
from atsoc.hdl.eth.crc import RESIDUE, crc32_equations, crc32_step
from atsoc.hdl.eth.mdio import MDIOMaster
from atsoc.hdl.eth.registers import eth_mac_register_map
from atsoc.sim.driver import eth_mac as D
from atsoc.sim.model.eth import EthMACModel, RxConfig, RxFrame, PREAMBLE, fcs


def test_crc_equations_match_zlib():
    rng = random.Random(1)
    for _ in range(20):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        crc = 0xFFFFFFFF
        for b in data:
            new = 0
            for o, (cm, dm) in enumerate(crc32_equations(8)):
                new |= ((bin(crc & cm).count("1") + bin(b & dm).count("1")) & 1) << o
            assert new == crc32_step(crc, b)
            crc = new
        assert crc ^ 0xFFFFFFFF == zlib.crc32(data)
    assert RESIDUE == 0xDEBB20E3


def test_driver_constants_match_register_map():
    rm = eth_mac_register_map()
    for name, off in (("raf", D.RAF), ("intr_status", D.IS), ("intr_pending", D.IP),
                      ("intr_enable", D.IE), ("rcw1", D.RCW1), ("tc", D.TC), ("emmc", D.EMMC),
                      ("mdio_mc", D.MDIO_MC), ("mdio_mcr", D.MDIO_MCR), ("mdio_mwd", D.MDIO_MWD),
                      ("mdio_mrd", D.MDIO_MRD), ("uaw0", D.UAW0), ("uaw1", D.UAW1), ("fmi", D.FMI)):
        assert rm[name].offset == off, name
    assert rm["rcw1"].field("rx_en").mask == D.RCW1_RX and rm["rcw1"].field("jumbo").mask == D.RCW1_JUM
    assert rm["tc"].field("tx_en").mask == D.TC_TX
    assert rm["intr_status"].field("rx_cmplt").mask == D.INT_RX_CMPLT
    assert rm["intr_status"].field("rx_fifo_ovr").mask == D.INT_RX_FIFOOVR
    assert rm["mdio_mcr"].field("ready").mask == D.MCR_READY
    assert rm["mdio_mcr"].field("initiate").mask == D.MCR_INIT
    assert rm["fmi"].field("pm").mask == D.FMI_PM
    assert rm["rxfl"].offset == 0x290                       # dma_eth.md


def test_model_rules():
    m = EthMACModel(RxConfig(unicast=bytes.fromhex("020000000001")))
    good = bytes.fromhex("020000000001") + bytes(54)
    assert m.receive(RxFrame(PREAMBLE + good + fcs(good))) == "OK"
    assert m.receive(RxFrame(PREAMBLE + good + bytes(4))) == "FCS"
    assert m.receive(RxFrame(PREAMBLE[1:] + good + fcs(good))) == "OK"         # short preamble
    assert m.receive(RxFrame(b"\x55" * 7 + good + fcs(good))) == "PREAMBLE"
    assert m.receive(RxFrame(PREAMBLE + good[:40] + fcs(good[:40]))) == "UNDERSIZE"
    big = good + bytes(1500)
    assert m.receive(RxFrame(PREAMBLE + big + fcs(big))) == "OVERSIZE"
    assert m.delivered == [good, good]


def test_config_checks():
    with pytest.raises(ValueError):
        EthMACConfig(tx_fifo_bytes=3000)
    with pytest.raises(ValueError):
        EthMACConfig(phy="xgmii")


def test_mdio_master_read_frame():
    """A read of PHY 3 register 1: the frame bits on MDIO, and the data sampled back."""
    dut = MDIOMaster()
    sent = []
    reply = 0xA5C3

    async def bench(ctx):
        ctx.set(dut.divider, 1)
        ctx.set(dut.enable, 1)
        ctx.set(dut.op, 0b10)
        ctx.set(dut.phyad, 3)
        ctx.set(dut.regad, 1)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        bit = 0
        prev_mdc = 0
        for _ in range(2000):
            mdc = ctx.get(dut.mdc)
            if mdc and not prev_mdc:                 # rising edge seen: record master's bit
                sent.append(ctx.get(dut.mdio_o) if ctx.get(dut.mdio_oe) else None)
                bit += 1
                if 48 <= bit <= 63:                  # data bit for the next rising edge
                    ctx.set(dut.mdio_i, (reply >> (63 - bit)) & 1)
            prev_mdc = mdc
            if ctx.get(dut.ready):
                break
            await ctx.tick()
        assert ctx.get(dut.ready)
        assert ctx.get(dut.rdata) == reply

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert sent[:32] == [1] * 32
    assert sent[32:46] == [0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1]      # ST, OP read, 3, 1
    assert sent[46:] == [None] * 18                                        # released


def _frames_of_beats(beats):
    """Expected bytes per frame of (data, keep, last) beats, as TxStreamToBytes sends them."""
    frames, cur = [], []
    for data, keep, last, w in beats:
        cur += [data[i] for i in range(w) if keep >> i & 1]
        if last:
            if cur:
                frames.append(bytes(cur))
            cur = []
    return frames


@pytest.mark.parametrize("data_width", [32, 64])
def test_tx_stream_to_bytes(data_width):
    """Random beats with sparse TKEEP, null beats and TLAST null beats, random back-pressure:
    every kept byte comes out once, in order, ``last`` on the last byte of each frame."""
    from atsoc.hdl.eth.stream_width import TxStreamToBytes
    from atsoc.sim.block_build import pick_seed
    seed = pick_seed()
    rng = random.Random(seed)
    w = data_width // 8
    dut = TxStreamToBytes(data_width)
    beats = []
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(w))
        kind = rng.random()
        keep = (rng.randrange(1 << w) if kind < 0.3 else
                0 if kind < 0.4 else (1 << w) - 1 if kind < 0.8 else (1 << rng.randrange(1, w + 1)) - 1)
        beats.append((data, keep, rng.random() < 0.15, w))
    beats.append((bytes(w), 1, 1, w))
    expected = _frames_of_beats(beats)
    got, cur = [], []

    async def source(ctx):
        for data, keep, last, _ in beats:
            while rng.random() < 0.2:
                await ctx.tick()
            ctx.set(dut.axis.tdata, int.from_bytes(data, "little"))
            ctx.set(dut.axis.tkeep, keep)
            ctx.set(dut.axis.tlast, last)
            ctx.set(dut.axis.tvalid, 1)
            await ctx.tick().until(dut.axis.tready)
            ctx.set(dut.axis.tvalid, 0)

    async def sink(ctx):
        while len(got) < len(expected):
            ctx.set(dut.bytes.ready, rng.random() < 0.7)
            await ctx.tick()
        ctx.set(dut.bytes.ready, 0)

    async def monitor(ctx):
        async for clk, rst, valid, ready, data, last in ctx.tick().sample(
                dut.bytes.valid, dut.bytes.ready, dut.bytes.payload.data, dut.bytes.payload.last):
            if valid and ready:
                cur.append(data)
                if last:
                    got.append(bytes(cur))
                    cur.clear()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(source, background=True)
    sim.add_process(monitor)
    sim.add_testbench(sink)
    sim.run_until(1e-8 * 20000)
    assert got == expected, f"seed {seed}"
    assert not cur


@pytest.mark.parametrize("data_width", [32, 64])
def test_rx_bytes_to_stream(data_width):
    """Frames of 1..40 bytes with random valid gaps and TREADY: beats packed from lane 0, TKEEP
    contiguous, only the last beat partial."""
    from atsoc.hdl.eth.stream_width import RxBytesToStream
    from atsoc.sim.block_build import pick_seed
    seed = pick_seed()
    rng = random.Random(seed)
    w = data_width // 8
    dut = RxBytesToStream(data_width)
    frames = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 41))) for _ in range(60)]
    got, cur = [], []

    async def source(ctx):
        for n, f in enumerate(frames):
            for i, b in enumerate(f):
                while n < 40 and rng.random() < 0.2:
                    ctx.set(dut.bytes.valid, 0)
                    await ctx.tick()
                ctx.set(dut.bytes.payload.data, b)
                ctx.set(dut.bytes.payload.last, i == len(f) - 1)
                ctx.set(dut.bytes.valid, 1)
                await ctx.tick().until(dut.bytes.ready)
            ctx.set(dut.bytes.valid, 0)

    async def sink(ctx):
        async for clk, rst, valid, ready, data, keep, last in ctx.tick().sample(
                dut.axis.tvalid, dut.axis.tready, dut.axis.tdata, dut.axis.tkeep, dut.axis.tlast):
            if valid and ready:
                assert keep in [(1 << k) - 1 for k in range(1, w + 1)], keep
                assert keep == (1 << w) - 1 or last, "partial beat before the end of a frame"
                cur.extend(data.to_bytes(w, "little")[:bin(keep).count("1")])
                if last:
                    got.append(bytes(cur))
                    cur.clear()

    async def ready(ctx):
        while len(got) < 40:
            ctx.set(dut.axis.tready, rng.random() < 0.7)
            await ctx.tick()
        ctx.set(dut.axis.tready, 1)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(source)
    sim.add_process(sink)
    sim.add_testbench(ready, background=True)
    sim.run_until(1e-8 * 20000)
    assert len(got) == len(frames), (len(got), seed)
    for i, (g, f) in enumerate(zip(got, frames)):
        assert g == f, (i, g.hex(), f.hex(), seed)
