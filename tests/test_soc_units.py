"""Unit tests (amaranth.sim, no Verilator) of the SoC's glue: the AXI-Stream width converters with
random back-pressure on both sides, and the interconnect's parameter checks."""

import random

import pytest
from amaranth.sim import Simulator

from atsoc.hdl.bus.axil_interconnect import AXI4LiteInterconnect, Target
from atsoc.hdl.bus.axis_width import AXIStreamDownsizer, AXIStreamUpsizer
from atsoc.sim.block_build import pick_seed


def _run_stream(dut, packets_in, in_bytes, out_bytes, rng, cycles=20_000):
    """Drive ``packets_in`` (lists of (data, keep) beats) into ``dut.s_axis`` and collect the bytes
    of each output packet; random valid/ready gaps on both sides. Returns (packets out, beats out)."""
    out_packets, cur, beats = [], bytearray(), []

    async def source(ctx):
        for packet in packets_in:
            for i, (data, keep) in enumerate(packet):
                while rng.random() < 0.3:
                    ctx.set(dut.s_axis.tvalid, 0)
                    await ctx.tick()
                ctx.set(dut.s_axis.tdata, data)
                ctx.set(dut.s_axis.tkeep, keep)
                ctx.set(dut.s_axis.tlast, i == len(packet) - 1)
                ctx.set(dut.s_axis.tvalid, 1)
                await ctx.tick().until(dut.s_axis.tready)
        ctx.set(dut.s_axis.tvalid, 0)

    async def sink(ctx):
        nonlocal cur
        for _ in range(cycles):
            ready = rng.random() < 0.7
            ctx.set(dut.m_axis.tready, ready)
            _, _, valid, data, keep, last = await ctx.tick().sample(
                dut.m_axis.tvalid, dut.m_axis.tdata, dut.m_axis.tkeep, dut.m_axis.tlast)
            if valid and ready:
                beats.append(keep)
                for lane in range(out_bytes):
                    if keep >> lane & 1:
                        cur.append(data >> (8 * lane) & 0xFF)
                if last:
                    out_packets.append(bytes(cur))
                    cur = bytearray()
                    if len(out_packets) == len(packets_in):
                        return

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(source)
    sim.add_testbench(sink)
    sim.run()
    return out_packets, beats


def _beats(payload: bytes, nbytes: int, rng, holes: bool):
    """Split ``payload`` into beats of ``nbytes`` lanes; with ``holes``, some lanes are null
    (TKEEP 0, garbage data) but never a whole beat."""
    beats, i = [], 0
    while i < len(payload):
        data = keep = 0
        for lane in range(nbytes):
            if i < len(payload) and not (holes and lane and rng.random() < 0.2):
                data |= payload[i] << (8 * lane)
                keep |= 1 << lane
                i += 1
            else:
                data |= rng.randrange(256) << (8 * lane)
        beats.append((data, keep))
    return beats


@pytest.mark.parametrize("holes", [False, True])
def test_downsizer_32_to_8(holes):
    seed = pick_seed()
    print(f"seed {seed} (replay with ATSOC_SEED={seed})")
    rng = random.Random(seed)
    payloads = [bytes(rng.randrange(256) for _ in range(rng.randint(1, 70))) for _ in range(30)]
    dut = AXIStreamDownsizer(in_width=32, out_width=8)
    got, beats = _run_stream(dut, [_beats(p, 4, rng, holes) for p in payloads], 4, 1, rng)
    assert got == payloads
    assert all(k == 1 for k in beats)            # every narrow beat carries one byte


def test_upsizer_8_to_32():
    seed = pick_seed()
    print(f"seed {seed} (replay with ATSOC_SEED={seed})")
    rng = random.Random(seed)
    payloads = [bytes(rng.randrange(256) for _ in range(rng.randint(1, 70))) for _ in range(30)]
    dut = AXIStreamUpsizer(in_width=8, out_width=32)
    got, beats = _run_stream(dut, [_beats(p, 1, rng, False) for p in payloads], 1, 4, rng)
    assert got == payloads
    # Packed: every beat full except a packet's last, whose lanes are contiguous from lane 0.
    assert all(k in (0x1, 0x3, 0x7, 0xF) for k in beats)
    assert len(beats) == sum((len(p) + 3) // 4 for p in payloads)


def test_downsizer_keeps_line_rate():
    """Back-to-back full beats with an always-ready sink give one byte every cycle."""
    dut = AXIStreamDownsizer(in_width=32, out_width=8)
    count = 0

    async def bench(ctx):
        nonlocal count
        ctx.set(dut.m_axis.tready, 1)
        ctx.set(dut.s_axis.tvalid, 1)
        ctx.set(dut.s_axis.tkeep, 0xF)
        for _ in range(4 * 50 + 1):
            _, _, valid = await ctx.tick().sample(dut.m_axis.tvalid)
            count += valid

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert count >= 4 * 50


def test_converter_widths_checked():
    with pytest.raises(ValueError, match="multiple"):
        AXIStreamDownsizer(in_width=24, out_width=16)
    with pytest.raises(ValueError, match="multiple"):
        AXIStreamUpsizer(in_width=8, out_width=8)


@pytest.mark.parametrize("targets,message", [
    ([Target("a", 0x0, 0x1000, 12), Target("b", 0x800, 0x800, 11)], "overlap"),
    ([Target("a", 0x0, 0x1000, 12), Target("a", 0x1000, 0x1000, 12)], "unique"),
    ([Target("a", 0x0, 0x1000, 12, 64)], "wider"),
])
def test_interconnect_checks(targets, message):
    with pytest.raises(ValueError, match=message):
        AXI4LiteInterconnect(targets, addr_width=32, data_width=32 if message == "wider" else 64)


@pytest.mark.parametrize("kwargs,message", [
    (dict(name="a", base=0x100, size=0x1000, addr_width=12), "multiple of its size"),
    (dict(name="a", base=0, size=0x1800, addr_width=12), "power of two"),
    (dict(name="a", base=0, size=0x800, addr_width=12), "smaller than"),
    (dict(name="a b", base=0, size=0x1000, addr_width=12), "identifier"),
    (dict(name="a", base=0, size=0x1000, addr_width=12, data_width=16), "32 or 64"),
])
def test_target_checks(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Target(**kwargs)
