"""Unit tests of the ATSINTC's building blocks in amaranth.sim, against plain Python models."""

import os
import random
from collections import deque

from amaranth.sim import Simulator

from atsoc.hdl.atsintc.blocked import BlockedOp, BlockedQueues
from atsoc.hdl.atsintc.queues import PriorityQueues, QueueOp


def _seed():
    seed = int(os.environ.get("ATSOC_SEED", random.randrange(1 << 32)))
    print(f"seed {seed} (ATSOC_SEED={seed} replays)")
    return seed


def test_priority_queues_random():
    """Random pushes and pops (back to back, every process, free-list reuse) against deques."""
    NP, NL, CAP = 3, 4, 8
    rng = random.Random(_seed())
    dut = PriorityQueues(processes=NP, priorities=NL, capacity=CAP)
    model = [[deque() for _ in range(NL)] for _ in range(NP)]

    async def tb(ctx):
        for step in range(3000):
            if ctx.get(dut.busy):
                ctx.set(dut.op, QueueOp.NONE)
                await ctx.tick()
                continue
            p = rng.randrange(NP)
            total = sum(len(q) for q in model[p])
            assert ctx.get(dut.full) >> p & 1 == (total == CAP)
            if rng.random() < 0.55 and total < CAP:
                level, word = rng.randrange(NL), rng.getrandbits(64) | 1
                ctx.set(dut.op, QueueOp.PUSH)
                ctx.set(dut.pid, p)
                ctx.set(dut.level, level)
                ctx.set(dut.word, word)
                model[p][level].append(word)
                await ctx.tick()
            else:
                ctx.set(dut.op, QueueOp.POP)
                ctx.set(dut.pid, p)
                await ctx.tick()
                ctx.set(dut.op, QueueOp.NONE)
                assert ctx.get(dut.busy)
                expect = next((q.popleft() for q in model[p] if q), 0)
                assert ctx.get(dut.pop_word) == expect, (step, p)
                await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()


def test_blocked_queues_random():
    Q, D = 4, 4
    rng = random.Random(_seed())
    dut = BlockedQueues(queues=Q, depth=D, tag_bits=2)
    model = [deque() for _ in range(Q)]

    async def tb(ctx):
        pending = None
        for step in range(2000):
            q = rng.randrange(Q)
            if pending is not None:
                assert ctx.get(dut.data) == pending[0], step
                pending = None
            for k in range(Q):
                assert ctx.get(dut.counts.word_select(k, 3)) == len(model[k])
                if model[k]:
                    assert ctx.get(dut.head_tags.word_select(k, 2)) == model[k][0][1]
            if rng.random() < 0.5 and len(model[q]) < D:
                word, tag = rng.getrandbits(64), rng.randrange(4)
                ctx.set(dut.op, BlockedOp.APPEND)
                ctx.set(dut.queue, q)
                ctx.set(dut.word, word)
                ctx.set(dut.tag, tag)
                model[q].append((word, tag))
            elif model[q]:
                ctx.set(dut.op, BlockedOp.TAKE)
                ctx.set(dut.queue, q)
                pending = model[q].popleft()
            else:
                ctx.set(dut.op, BlockedOp.NONE)
            await ctx.tick()
            ctx.set(dut.op, BlockedOp.NONE)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
