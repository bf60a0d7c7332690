"""Cycle-exact PLIC unit tests in amaranth.sim, in lockstep with the reference model.

These are the cases that need an event placed on an exact cycle relative to a bus handshake
(plic.md: "set and complete in the same cycle (OpenTitan issue 351); set and claim in the same
cycle"), plus the latency contract that the model and the RTL share. Every cycle the RTL's ``eip``
and every R beat are compared with the model, besides the explicit assertions.
"""

import pytest
from amaranth.sim import Simulator

from atsoc.hdl.plic.config import PLICConfig
from atsoc.hdl.plic.plic import PLIC
from atsoc.sim.driver.regs import plic as R
from atsoc.sim.model.plic import PLICModel


class Lockstep:
    """Drive the RTL's AXI4-Lite port cycle by cycle and step the model with the same inputs."""

    def __init__(self, ctx, dut, model):
        self.ctx, self.dut, self.model = ctx, dut, model
        self.cycle = 0
        self.reads = []              # R beats seen: (cycle, data)

    async def step(self, lines, *, write=None, read=None):
        ctx, axi = self.ctx, self.dut.s_axil
        ctx.set(self.dut.irq_sources, lines)
        ctx.set(axi.bready, 1)
        ctx.set(axi.rready, 1)
        ctx.set(axi.awvalid, write is not None)
        ctx.set(axi.wvalid, write is not None)
        ctx.set(axi.arvalid, read is not None)
        if write is not None:
            addr, data = write[:2]
            ctx.set(axi.awaddr, addr)
            ctx.set(axi.wdata, data)
            ctx.set(axi.wstrb, write[2] if len(write) > 2 else 0xF)
        if read is not None:
            ctx.set(axi.araddr, read)
        assert ctx.get(self.dut.eip) == self.model.eip, f"cycle {self.cycle}: eip"
        if ctx.get(axi.rvalid):
            data = ctx.get(axi.rdata)
            assert (data, ctx.get(axi.rresp) == 2) == tuple(self.model.read_result()), f"cycle {self.cycle}"
            self.reads.append((self.cycle, data))
        if write is not None:
            assert ctx.get(axi.awready) and ctx.get(axi.wready), f"cycle {self.cycle}: write not accepted"
        if read is not None:
            assert ctx.get(axi.arready), f"cycle {self.cycle}: read not accepted"
        await ctx.tick()
        self.model.step(lines, write=(write + (0xF,))[:3] if write else None, read=read)
        self.cycle += 1

    async def idle(self, lines, n=1):
        for _ in range(n):
            await self.step(lines)

    def pending(self):
        return self.model.ip if hasattr(self.model, "ip") else None


def run(config, body):
    dut = PLIC(config)
    model = PLICModel(config)

    async def tb(ctx):
        await body(Lockstep(ctx, dut, model), ctx, dut)

    sim = Simulator(dut)
    sim.add_clock(8e-9)
    sim.add_testbench(tb)
    sim.run()


async def setup(ls, src, ctx_=0, prio=1):
    """Give ``src`` a priority and add it to the enables of context ``ctx_``."""
    await ls.step(0, write=(R.priority(src), prio))
    await ls.idle(0)
    enabled = ls.model.enable[ctx_] | (1 << src)
    await ls.step(0, write=(R.enable(ctx_, src // 32), (enabled >> (32 * (src // 32))) & 0xFFFFFFFF))
    await ls.idle(0)


def test_latency_contract():
    """Line -> eip in exactly 2 cycles; AR -> R in exactly 2 cycles; a claim every 2 cycles."""
    async def body(ls, ctx, dut):
        await setup(ls, 3)
        await setup(ls, 4)
        line = (1 << 3) | (1 << 4)
        await ls.step(line)                 # cycle t: line high; now in t+1, pending set
        assert ctx.get(dut.eip) == 0
        await ls.step(line)                 # now in t+2: eip
        assert ctx.get(dut.eip) & 1
        start = ls.cycle
        await ls.step(line, read=R.claim(0))
        await ls.idle(line)
        await ls.step(line, read=R.claim(0))   # back to back: accepted in the R cycle
        await ls.idle(line)
        await ls.idle(line)
        assert [(c - start, d) for c, d in ls.reads] == [(2, 3), (4, 4)]
    run(PLICConfig(), body)


def test_latency_with_synchronizer():
    async def body(ls, ctx, dut):
        await setup(ls, 2)
        for k in range(5):
            assert ctx.get(dut.eip) == (1 if k == 4 else 0)
            await ls.step(1 << 2)
    run(PLICConfig(sources=4, synchronizer=True), body)


@pytest.mark.parametrize("edge", [False, True])
def test_set_and_complete_same_cycle(edge):
    """OpenTitan issue 351: a request arriving in the completion's cycle is not lost."""
    src = 5
    async def body(ls, ctx, dut):
        await setup(ls, src)
        await ls.step(1 << src)
        await ls.idle(0 if edge else 1 << src, 3)
        await ls.step(0 if edge else 1 << src, read=R.claim(0))
        await ls.idle(0, 3)
        assert ls.reads[-1][1] == src
        # Line rises in exactly the cycle of the completion write.
        await ls.step(1 << src, write=(R.claim(0), src))
        await ls.idle(1 << src, 4)
        assert (ls.model.ip >> src) & 1, "the request was lost"
        assert ctx.get(dut.eip) & 1
        await ls.step(1 << src, read=R.claim(0))
        await ls.idle(0, 3)
        assert ls.reads[-1][1] == src
    run(PLICConfig(sources=8, edge_sources={src} if edge else set()), body)


@pytest.mark.parametrize("edge", [False, True])
def test_set_and_claim_same_cycle(edge):
    """A request arriving while a claim is in flight (AR cycle and clear cycle) is kept."""
    a, b = 6, 7
    async def body(ls, ctx, dut):
        await setup(ls, a, prio=2)
        await setup(ls, b, prio=1)
        await ls.step(1 << a)
        await ls.idle(0, 3)
        for offset in (0, 1):
            # Claim of a; b rises in the AR cycle (offset 0) or in the clear cycle (offset 1);
            # for the edge variant a's own line pulses again while its gateway is closed.
            lines = [0, 0, 0]
            lines[offset] = (1 << b) | ((1 << a) if edge else 0)
            await ls.step(lines[0], read=R.claim(0))
            await ls.step(lines[1])
            await ls.step(lines[2])
            assert ls.reads[-1][1] == a
            await ls.idle(0, 3)
            assert (ls.model.ip >> b) & 1 and not (ls.model.ip >> a) & 1
            await ls.step(0, read=R.claim(0))
            await ls.idle(0, 3)
            assert ls.reads[-1][1] == b
            await ls.step(0, write=(R.claim(0), b))
            await ls.step(0, write=(R.claim(0), a))
            await ls.idle(0, 3)
            if edge:
                # The pulse seen while a was claimed was counted and forwarded at the completion.
                assert (ls.model.ip >> a) & 1
            else:
                await ls.step(1 << a)
                await ls.idle(0, 3)
    run(PLICConfig(sources=8, edge_sources={a} if edge else set()), body)


def test_claim_is_atomic_against_back_to_back_contexts():
    """Two contexts claiming in consecutive transactions never get the same ID."""
    async def body(ls, ctx, dut):
        for s in (1, 2):
            await ls.step(0, write=(R.priority(s), 1))
            for c in (0, 1):
                await ls.step(0, write=(R.enable(c, 0), 0b110))
        await ls.step(0b110)
        await ls.idle(0, 3)
        await ls.step(0, read=R.claim(0))
        await ls.idle(0)
        await ls.step(0, read=R.claim(1))
        await ls.idle(0)
        await ls.step(0, read=R.claim(1))
        await ls.idle(0, 3)
        assert [d for _, d in ls.reads] == [1, 2, 0]
    run(PLICConfig(sources=4, contexts=2), body)
