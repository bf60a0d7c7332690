"""AXI4 RAM (hdl/bus/axi4_ram.py) under amaranth.sim against a Python memory model.

One testbench per AXI channel with random VALID gaps and READY back-pressure; random INCR,
FIXED and WRAP bursts of every size, narrow transfers, out-of-range beats (SLVERR), and the
AXI4-Lite host port used at the same time as the AXI4 port. The seed is printed (ATSOC_SEED
replays).
"""

import os
import random

import pytest
from amaranth.sim import Simulator

from atsoc.hdl.bus.axi4 import Burst
from atsoc.hdl.bus.axi4_ram import AXI4RAM

# constructors that raise leave an unused Elaboratable behind, reported when collected
pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")

BASE = 0x4000
SIZE = 0x400          # 1 KiB: 256 words of 32 bits


def _seed():
    seed = int(os.environ.get("ATSOC_SEED", random.randrange(1 << 30)))
    print(f"seed {seed} (replay with ATSOC_SEED={seed})")
    return seed


def beat_addrs(addr, length, size, burst):
    """Byte address of each beat (IHI 0022 A3.4.1)."""
    n = 1 << size
    total = (length + 1) * n
    low = addr // total * total
    out, a = [], addr
    for _ in range(length + 1):
        out.append(a)
        if burst == Burst.INCR:
            a = (a // n) * n + n
        elif burst == Burst.WRAP:
            a = low + (a + n - low) % total
    return out


def random_burst(rng, nb, lo, hi):
    """(addr, len, size, burst) of a legal burst whose beats fall in [lo, hi) or just beyond."""
    size = rng.randrange(0, nb.bit_length())           # 1 .. nb bytes per beat
    burst = rng.choice([Burst.INCR, Burst.INCR, Burst.FIXED, Burst.WRAP])
    if burst == Burst.WRAP:
        length = rng.choice([1, 3, 7, 15])
    else:
        length = rng.choice([0, 0, 1, 3, rng.randrange(16), rng.randrange(64)])
    n = 1 << size
    addr = rng.randrange(lo, hi) // n * n
    return addr, length, size, burst


class Model:
    def __init__(self, lo, hi):
        self.lo, self.hi, self.mem = lo, hi, {}

    def ok(self, a):
        return self.lo <= a < self.hi


def run(seed, *, bursts=40, host_ops=0, nb=4, bank_words=512):
    rng = random.Random(seed)
    dut = AXI4RAM(size_bytes=SIZE, data_width=8 * nb, addr_width=16, id_width=2, base=BASE,
                  host_port=host_ops > 0, bank_words=bank_words)
    axi = dut.s_axi
    model = Model(BASE, BASE + SIZE)
    # AXI4 works on the lower 3/4 (and beyond the top: SLVERR); the host on the upper quarter.
    lo, hi = BASE - 0x40, BASE + SIZE * 3 // 4

    def pick():
        # with the host port in use, AXI4 bursts stay out of the host's quarter
        while True:
            b = random_burst(rng, nb, lo, hi)
            if not host_ops or all(not hi <= a < BASE + SIZE for a in beat_addrs(*b)):
                return b
    writes = [pick() for _ in range(bursts)]
    reads = [pick() for _ in range(bursts)]
    errors = []

    sim = Simulator(dut)
    sim.add_clock(1e-8)

    async def gap(ctx, p=0.3):
        while rng.random() < p:
            await ctx.tick()

    # -- phase 1: writes, then phase 2: reads of the same region (checked against the model)
    async def aw_send(ctx):
        for i, (addr, length, size, burst) in enumerate(writes):
            await gap(ctx)
            ctx.set(axi.awaddr, addr); ctx.set(axi.awlen, length); ctx.set(axi.awsize, size)
            ctx.set(axi.awburst, burst); ctx.set(axi.awid, i & 3); ctx.set(axi.awvalid, 1)
            await ctx.tick().until(axi.awready)
            ctx.set(axi.awvalid, 0)

    expected_b = []
    b_seen = []

    async def w_send(ctx):
        for addr, length, size, burst in writes:
            beats = beat_addrs(addr, length, size, burst)
            any_err = False
            for j, a in enumerate(beats):
                await gap(ctx)
                data = rng.getrandbits(8 * nb)
                lanes = [(a % nb) + k for k in range(1 << size)]
                strb = sum(1 << ln for ln in lanes if rng.random() < 0.8)
                ctx.set(axi.wdata, data); ctx.set(axi.wstrb, strb)
                ctx.set(axi.wlast, j == length); ctx.set(axi.wvalid, 1)
                await ctx.tick().until(axi.wready)
                ctx.set(axi.wvalid, 0)
                if model.ok(a):
                    for ln in lanes:
                        if (strb >> ln) & 1:
                            model.mem[a - a % nb + ln] = (data >> (8 * ln)) & 0xFF
                else:
                    any_err = True
            expected_b.append(2 if any_err else 0)

    async def b_recv(ctx):
        for i in range(len(writes)):
            ctx.set(axi.bready, 0)
            await gap(ctx)
            ctx.set(axi.bready, 1)
            bid, bresp = await ctx.tick().sample(axi.bid, axi.bresp).until(axi.bvalid)
            ctx.set(axi.bready, 0)
            b_seen.append(i)
            if (bid, bresp) != (i & 3, expected_b[i]):
                errors.append(f"B {i}: id {bid} resp {bresp}, expected {i & 3} {expected_b[i]}")

    async def reads_after_writes(ctx):
        # wait for every write response, then read back
        while len(b_seen) < len(writes):
            await ctx.tick()
        await ctx.tick().repeat(10)
        for i, (addr, length, size, burst) in enumerate(reads):
            await gap(ctx)
            ctx.set(axi.araddr, addr); ctx.set(axi.arlen, length); ctx.set(axi.arsize, size)
            ctx.set(axi.arburst, burst); ctx.set(axi.arid, i & 3); ctx.set(axi.arvalid, 1)
            await ctx.tick().until(axi.arready)
            ctx.set(axi.arvalid, 0)
            for j, a in enumerate(beat_addrs(addr, length, size, burst)):
                ctx.set(axi.rready, 0)
                await gap(ctx, 0.4)
                ctx.set(axi.rready, 1)
                data, resp, last, rid = await ctx.tick().sample(
                    axi.rdata, axi.rresp, axi.rlast, axi.rid).until(axi.rvalid)
                ctx.set(axi.rready, 0)
                lanes = [(a % nb) + k for k in range(1 << size)]
                if model.ok(a):
                    exp = {ln: model.mem.get(a - a % nb + ln, 0) for ln in lanes}
                    got = {ln: (data >> (8 * ln)) & 0xFF for ln in lanes}
                    if (got, resp) != (exp, 0):
                        errors.append(f"R burst {i} beat {j} at {a:#x}: {got} resp {resp}, "
                                      f"expected {exp}")
                elif resp != 2:
                    errors.append(f"R burst {i} beat {j} at {a:#x}: resp {resp}, expected SLVERR")
                if (last, rid) != (j == length, i & 3):
                    errors.append(f"R burst {i} beat {j}: last {last} id {rid}")

    host_log = []

    async def host(ctx):
        h = dut.s_axil
        shadow = {}
        for k in range(host_ops):
            addr = BASE + SIZE * 3 // 4 + rng.randrange(SIZE // 4 // nb) * nb
            await gap(ctx)
            if rng.random() < 0.5 or addr not in shadow:
                value = rng.getrandbits(8 * nb)
                ctx.set(h.awaddr, addr); ctx.set(h.wdata, value)
                ctx.set(h.wstrb, (1 << nb) - 1)
                ctx.set(h.awvalid, 1); ctx.set(h.wvalid, 1); ctx.set(h.bready, 1)
                aw_done = w_done = False
                while True:
                    _, _, awr, wr, bv, bresp = await ctx.tick().sample(
                        h.awready, h.wready, h.bvalid, h.bresp)
                    if awr and not aw_done:
                        aw_done = True
                        ctx.set(h.awvalid, 0)
                    if wr and not w_done:
                        w_done = True
                        ctx.set(h.wvalid, 0)
                    if bv:
                        break
                ctx.set(h.bready, 0)
                await ctx.tick()
                shadow[addr] = value
                host_log.append(("w", addr, bresp))
            else:
                ctx.set(h.araddr, addr); ctx.set(h.arvalid, 1); ctx.set(h.rready, 1)
                await ctx.tick().until(h.arready)
                ctx.set(h.arvalid, 0)
                data, resp = await ctx.tick().sample(h.rdata, h.rresp).until(h.rvalid)
                ctx.set(h.rready, 0)
                if (data, resp) != (shadow[addr], 0):
                    errors.append(f"host read {addr:#x}: {data:#x} resp {resp}, "
                                  f"expected {shadow[addr]:#x}")
                host_log.append(("r", addr, resp))

    sim.add_testbench(aw_send)
    sim.add_testbench(w_send)
    sim.add_testbench(b_recv)
    sim.add_testbench(reads_after_writes)
    if host_ops:
        sim.add_testbench(host)
    sim.run()
    return errors, host_log


@pytest.mark.parametrize("nb,bank_words", [(4, 512), (8, 512), (4, 32)])
def test_random_bursts_match_model(nb, bank_words):
    errors, _ = run(_seed(), bursts=40, nb=nb, bank_words=bank_words)
    assert not errors, "\n".join(errors[:10])


def test_host_port_alongside_bursts():
    errors, log = run(_seed(), bursts=25, host_ops=40, bank_words=64)
    assert not errors, "\n".join(errors[:10])
    assert len(log) == 40 and all(resp == 0 for _, _, resp in log)


def test_one_beat_per_cycle():
    """A 64-beat INCR read with RREADY held high streams one beat per cycle after the first,
    and a 64-beat write takes one W beat per cycle."""
    dut = AXI4RAM(size_bytes=4096, bank_words=64)
    axi = dut.s_axi
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    result = {}

    async def tb(ctx):
        ctx.set(axi.awaddr, 0x100); ctx.set(axi.awlen, 63); ctx.set(axi.awsize, 2)
        ctx.set(axi.awburst, Burst.INCR); ctx.set(axi.awvalid, 1)
        await ctx.tick().until(axi.awready)
        ctx.set(axi.awvalid, 0)
        ctx.set(axi.wvalid, 1)
        w_cycles = 0
        for i in range(64):
            ctx.set(axi.wdata, i * 0x01010101); ctx.set(axi.wstrb, 0xF); ctx.set(axi.wlast, i == 63)
            while True:
                w_cycles += 1
                _, _, ready = await ctx.tick().sample(axi.wready)
                if ready:
                    break
        ctx.set(axi.wvalid, 0)
        ctx.set(axi.bready, 1)
        await ctx.tick().until(axi.bvalid)
        ctx.set(axi.araddr, 0x100); ctx.set(axi.arlen, 63); ctx.set(axi.arsize, 2)
        ctx.set(axi.arburst, Burst.INCR); ctx.set(axi.arvalid, 1); ctx.set(axi.rready, 1)
        await ctx.tick().until(axi.arready)
        ctx.set(axi.arvalid, 0)
        beats, cycles, latency = [], 0, None
        while len(beats) < 64:
            cycles += 1
            _, _, v, d = await ctx.tick().sample(axi.rvalid, axi.rdata)
            if v:
                latency = latency or cycles
                beats.append(d)
        result.update(w=w_cycles, beats=beats, span=cycles - latency + 1, latency=latency)

    sim.add_testbench(tb)
    sim.run()
    assert result["w"] == 64
    assert result["beats"] == [i * 0x01010101 for i in range(64)]
    assert result["span"] == 64          # no bubble inside the burst
    assert result["latency"] == 5        # AR handshake to first R beat, as documented


def test_burst_address_sequences():
    assert beat_addrs(0x38, 3, 2, Burst.WRAP) == [0x38, 0x3C, 0x30, 0x34]
    assert beat_addrs(0x10, 2, 2, Burst.FIXED) == [0x10] * 3
    assert beat_addrs(0x11, 2, 0, Burst.INCR) == [0x11, 0x12, 0x13]


@pytest.mark.parametrize("kwargs,msg", [
    (dict(size_bytes=1000), "power of two"),
    (dict(size_bytes=4096, base=0x100), "multiple"),
    (dict(size_bytes=4096, data_width=16), "data_width"),
    (dict(size_bytes=1 << 20, addr_width=16), "addr_width"),
    (dict(size_bytes=64, init=bytes(65)), "init"),
])
def test_bad_parameters(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        AXI4RAM(**kwargs)


def test_init_contents_readable():
    dut = AXI4RAM(size_bytes=64, init=bytes(range(16)), host_port=True)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def tb(ctx):
        h = dut.s_axil
        for addr in (0, 4, 12, 16):
            ctx.set(h.araddr, addr); ctx.set(h.arvalid, 1); ctx.set(h.rready, 1)
            await ctx.tick().until(h.arready)
            ctx.set(h.arvalid, 0)
            data, resp = await ctx.tick().sample(h.rdata, h.rresp).until(h.rvalid)
            got.append((data, resp))
    sim.add_testbench(tb)
    sim.run()
    assert got == [(0x03020100, 0), (0x07060504, 0), (0x0F0E0D0C, 0), (0, 0)]


@pytest.mark.parametrize("name,make", [
    ("axi4_ram", lambda: AXI4RAM(size_bytes=4096, bank_words=256, host_port=True)),
    ("uart_axil", lambda: __import__("atsoc.hdl.bus.uart_axil", fromlist=["x"])
     .UARTAXILiteBridge(divisor=16, data_width=64)),
])
def test_verilator_lint_clean(tmp_path, name, make):
    """The generated Verilog of the RAM (with host port) and of the UART bridge lints clean."""
    from atsoc.hdl.toplevel import convert
    from atsoc.sim.runner import lint
    path = tmp_path / f"{name}.v"
    path.write_text(convert(make(), name))
    ok, output = lint([path], name)
    assert ok, output
