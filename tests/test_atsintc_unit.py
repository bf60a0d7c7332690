"""Unit tests of the ATSINTC's building blocks in amaranth.sim, against plain Python models."""

import os
import random
from collections import deque

from amaranth.sim import Simulator

from atsoc.hdl.atsintc.blocked import BlockedOp, BlockedQueues
from atsoc.hdl.atsintc.channels import ChannelQueues
from atsoc.hdl.atsintc.queues import PriorityQueues, QueueOp


def _seed():
    seed = int(os.environ.get("ATSOC_SEED", random.randrange(1 << 32)))
    print(f"seed {seed} (ATSOC_SEED={seed} replays)")
    return seed


def test_priority_queues_random():
    """Random pushes and pops (back to back, every process, free-list reuse) against
    deques: ``full`` counts every issued operation, a POP's word is on ``pop_word`` two cycles
    after its issue."""
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
                ctx.set(dut.pid_onehot, 1 << p)
                ctx.set(dut.level, level)
                ctx.set(dut.push_fresh, ctx.get(dut.fresh) >> p & 1)
                ib = dut.index_bits
                ctx.set(dut.push_entry, ctx.get(dut.next_fresh) >> (p * ib) & ((1 << ib) - 1))
                model[p][level].append(word)
                await ctx.tick()
                ctx.set(dut.op, QueueOp.NONE)
                ctx.set(dut.word, word)          # in the execution cycle (the next one), not before
            else:
                ctx.set(dut.op, QueueOp.POP)
                ctx.set(dut.pid, p)
                ctx.set(dut.pid_onehot, 1 << p)
                await ctx.tick()
                ctx.set(dut.op, QueueOp.NONE)
                assert ctx.get(dut.busy)
                await ctx.tick()
                expect = next((q.popleft() for q in model[p] if q), 0)
                assert ctx.get(dut.pop_word) == expect, (step, p)

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
                assert ctx.get(dut.nonempty) >> k & 1 == bool(model[k])
                if model[k]:
                    assert ctx.get(dut.head_tags.word_select(k, 2)) == model[k][0][1]
                    assert ctx.get(dut.head_tags_onehot.word_select(k, 4)) == 1 << model[k][0][1]
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


def test_channel_queues_random():
    """Channel state (pending sends, blocked handlers) looked up into registers and then operated
    on, against Python deques; each step operates on the channel looked up before while looking up
    the next (sometimes the same one: the lookup must see the operation's result). The state memory
    starts full of garbage (as after a reset that follows use: reset clears only the valid bits),
    and every channel must still read empty."""
    Q, D, LIMIT = 8, 2, 3
    rng = random.Random(_seed())
    dut = ChannelQueues(channels=Q, depth=D, pending_limit=LIMIT)
    width = dut.count_bits + dut.slot_bits + dut.pending_bits
    dut.state_memory.init = [rng.getrandbits(width) | 1 for _ in range(Q)]
    queues = [deque() for _ in range(Q)]
    pending = [0] * Q
    ops = ("take", "append", "pend_inc", "pend_dec")

    async def tb(ctx):
        ctx.set(dut.lookup, 1)
        for q in range(Q):
            ctx.set(dut.lookup_channel, q)
            await ctx.tick()
            assert (ctx.get(dut.count), ctx.get(dut.pending)) == (0, 0), q
        taken = None
        q = Q - 1
        for step in range(3000):
            if taken is not None:
                assert ctx.get(dut.data) == taken, step
                taken = None
            assert ctx.get(dut.count) == len(queues[q]), step
            assert ctx.get(dut.pending) == pending[q], step
            for name in ops:
                ctx.set(getattr(dut, name), 0)
            # A write-back without an operation sometimes (it must change nothing), and an
            # operation without write-back sometimes (it must not happen).
            write = rng.random() < 0.9
            ctx.set(dut.write, write)
            r = rng.random()
            if not write:
                if rng.random() < 0.5:
                    ctx.set(getattr(dut, rng.choice(ops)), 1)
            elif r < 0.3 and len(queues[q]) < D:
                word = rng.getrandbits(64)
                ctx.set(dut.append, 1)
                ctx.set(dut.word, word)
                queues[q].append(word)
            elif r < 0.55 and queues[q]:
                ctx.set(dut.take, 1)
                taken = queues[q].popleft()
            elif r < 0.8 and pending[q] < LIMIT:
                ctx.set(dut.pend_inc, 1)
                pending[q] += 1
            elif pending[q]:
                ctx.set(dut.pend_dec, 1)
                pending[q] -= 1
            lookup = rng.random() < 0.7
            nxt = q if rng.random() < 0.3 else rng.randrange(Q)
            ctx.set(dut.lookup, lookup)
            ctx.set(dut.lookup_channel, nxt)
            await ctx.tick()
            if lookup:
                q = nxt

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
