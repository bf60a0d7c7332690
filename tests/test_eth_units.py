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


@pytest.mark.parametrize("lanes, r_register", [(1, False), (4, False), (8, False), (1, True)],
                         ids=["lanes1", "lanes4", "lanes8", "lanes1-r_register"])
def test_frame_fifo_lanes(lanes, r_register):
    """AsyncFrameFIFO as the RX buffer: a byte (and its last flag) per lane written one at a time
    with random gaps in one clock, frames committed or rolled back (also when a byte meets a full
    FIFO), whole entries read with random gaps in another clock (also through the output
    register, ``r_register``, as the TX FIFO reads); the frames read back (ended by
    the lowest lane with the flag set) are exactly the committed ones, in order. Half the frames
    are committed with their last write, the others as the receive engine does: the last write
    ends the word (``w_end``) and the commit or rollback follows a few cycles later."""
    from amaranth.hdl import ClockDomain, Module
    from atsoc.hdl.eth.frame_fifo import AsyncFrameFIFO
    from atsoc.sim.block_build import pick_seed
    seed = pick_seed()
    rng = random.Random(seed)
    fifo = AsyncFrameFIFO(9, 64 // lanes, w_domain="wr", r_domain="rd", lanes=lanes,
                          r_register=r_register)
    top = Module()
    top.domains.wr = ClockDomain()
    top.domains.rd = ClockDomain()
    top.submodules.fifo = fifo
    frames = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 41))) for _ in range(120)]
    committed, got, cur = [], [], []
    done = []

    async def writer(ctx):
        for n, f in enumerate(frames):
            drop = rng.random() < 0.2
            later = rng.random() < 0.5
            refused = False
            for i, b in enumerate(f):
                while rng.random() < 0.3:
                    await ctx.tick("wr")
                last = i == len(f) - 1
                ctx.set(fifo.w_data, b | (last << 8))
                ctx.set(fifo.w_en, 1)
                ctx.set(fifo.w_end, last and later)
                ok = ctx.get(fifo.w_rdy)
                refused |= not ok
                keep = last and ok and not refused and not drop
                ctx.set(fifo.commit, keep and not later)
                await ctx.tick("wr")
                ctx.set(fifo.w_en, 0)
                ctx.set(fifo.w_end, 0)
                ctx.set(fifo.commit, 0)
                if keep and later:
                    for _ in range(rng.randrange(3)):
                        await ctx.tick("wr")
                    ctx.set(fifo.commit, 1)
                    await ctx.tick("wr")
                    ctx.set(fifo.commit, 0)
                if keep:
                    committed.append(f)
            if drop or refused:
                ctx.set(fifo.rollback, 1)
                await ctx.tick("wr")
                ctx.set(fifo.rollback, 0)
        done.append(1)

    async def reader(ctx):
        while not (done and len(got) == len(committed)):
            en = rng.random() < (0.3 if len(got) < 30 else 0.9)
            ctx.set(fifo.r_en, en)
            if en and ctx.get(fifo.r_rdy):
                word = ctx.get(fifo.r_data)
                lane_vals = [(word >> (9 * i)) & 0x1FF for i in range(lanes)]
                for v in lane_vals:
                    cur.append(v & 0xFF)
                    if v >> 8:
                        got.append(bytes(cur))
                        cur.clear()
                        break
            await ctx.tick("rd")
        ctx.set(fifo.r_en, 0)

    sim = Simulator(top)
    sim.add_clock(8e-9, domain="wr")
    sim.add_clock(7e-9, domain="rd")
    sim.add_testbench(writer)
    sim.add_testbench(reader)
    sim.run_until(7e-9 * 40000)
    assert done, f"writer did not finish (seed {seed})"
    assert len(committed) > 60, (len(committed), seed)
    assert got == committed, (len(got), len(committed), seed)


def test_rgmii_on_ecp5_board_platform():
    """EthMAC(phy="rgmii", rgmii_pads=...) on an amaranth-boards ECP5 platform: every RGMII data
    and control pin goes through IDDRX1F/ODDRX1F (amaranth.lib.io.DDRBuffer), rgmii_tx_clk too,
    and rx_clk gets its 125 MHz constraint. (The ``tx_ctrl`` spelling of Versa's second port.)"""
    from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module
    from amaranth.lib import io
    from amaranth_boards.versa_ecp5 import VersaECP5Platform
    from atsoc.hdl.eth.mac import EthMAC

    class Top(Elaboratable):
        def elaborate(self, platform):
            m = Module()
            m.domains.sync = cd = ClockDomain("sync")
            m.submodules.clk = clk = io.Buffer("i", platform.request("clk100", 0, dir="-"))
            m.d.comb += cd.clk.eq(clk.i)
            pads = platform.request("eth_rgmii", 1, dir="-")
            m.submodules.mac = mac = EthMAC(EthMACConfig(phy="rgmii", data_width=32),
                                            rgmii_pads=pads)
            m.d.comb += mac.gtx_clk.eq(ClockSignal("sync"))
            assert not hasattr(mac, "rgmii_txd")
            return m

    plan = VersaECP5Platform().prepare(Top())
    il = plan.files["top.il"]
    assert il.count("IDDRX1F") == 5 and il.count("ODDRX1F") == 6      # rxd+ctl; txd+ctl+clk
    assert 'FREQUENCY NET "mac.phy.rx_clk_buf.i" 125000000.0 HZ' in plan.files["top.lpf"]


def test_rgmii_pads_checked():
    from atsoc.hdl.eth.mac import EthMAC
    from atsoc.hdl.eth.rgmii import RGMIIAdapter
    with pytest.raises(ValueError, match="rgmii_pads"):
        EthMAC(EthMACConfig(phy="gmii"), rgmii_pads=object())
    with pytest.raises(ValueError, match="rx_clk"):
        RGMIIAdapter(object())


def test_address_filter_matches_model():
    """AddressFilter under amaranth.sim against the reference model's rule for every combination
    of FMI.pm, RAF.bcst_rej and RAF.mcst_rej (accept-all-multicast unless RAF.mcst_rej: the
    multicast table is not in dma_eth.md's register subset) on station, foreign unicast,
    broadcast, IPv4/IPv6/other group addresses and near misses."""
    from atsoc.hdl.eth.filter import AddressFilter
    station = bytes.fromhex("020000000001")
    rng = random.Random(7)
    dests = [station, bytes.fromhex("020000000002"), bytes.fromhex("030000000001"), b"\xff" * 6,
             b"\xff" * 5 + b"\xfe", bytes.fromhex("fe" + "ff" * 5), bytes.fromhex("01005e7f0001"),
             bytes.fromhex("333300000001"), bytes.fromhex("0180c2000001")]
    dests += [bytes(rng.randrange(256) for _ in range(6)) for _ in range(8)]
    dut = AddressFilter()
    results = []

    async def bench(ctx):
        ctx.set(dut.unicast, int.from_bytes(station, "little"))
        for pm in (0, 1):
            for brej in (0, 1):
                for mrej in (0, 1):
                    ctx.set(dut.promiscuous, pm)
                    ctx.set(dut.bcast_reject, brej)
                    ctx.set(dut.mcast_reject, mrej)
                    for d in dests:
                        for i, b in enumerate(d):
                            ctx.set(dut.strobe, 1)
                            ctx.set(dut.index, i)
                            ctx.set(dut.byte, b)
                            await ctx.tick()
                        ctx.set(dut.strobe, 0)
                        results.append((pm, brej, mrej, d, ctx.get(dut.accept),
                                        ctx.get(dut.broadcast), ctx.get(dut.multicast)))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    model = EthMACModel(RxConfig(unicast=station))
    accepted = 0
    for pm, brej, mrej, d, accept, bcast, mcast in results:
        model.config.promiscuous, model.config.bcast_reject, model.config.mcast_reject = \
            bool(pm), bool(brej), bool(mrej)
        assert accept == model.accepts(d), (pm, brej, mrej, d.hex())
        assert bcast == (d == b"\xff" * 6) and mcast == (bool(d[0] & 1) and d != b"\xff" * 6)
        accepted += accept
    assert 0 < accepted < len(results)
