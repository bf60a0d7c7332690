"""Blocked queues: many small FIFOs of registered handler words, in block RAM.

One FIFO per interrupt line (tagged with the owner process of each handler) or per (process, IPC
channel). Heads and counts are registers; the words live in one memory indexed by
``queue * depth + slot``. ``APPEND`` takes one cycle; ``TAKE`` reads the oldest word, which is on
``data`` in the next cycle (the queue's head and count change at the end of the TAKE cycle).
"""

from amaranth.hdl import Array, Cat, Const, Module, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..toplevel import NO_INIT_NO_RW_CHECK


__all__ = ["BlockedOp", "BlockedQueues"]


class BlockedOp(enum.Enum, shape=2):
    NONE = 0
    APPEND = 1
    TAKE = 2


class BlockedQueues(wiring.Component):
    """``queues`` FIFOs of ``depth`` 64-bit words, with an optional owner tag per word.

    Parameters
    ----------
    queues : int
        Number of FIFOs (a power of two keeps the address a concatenation).
    depth : int
        Words per FIFO, a power of two.
    tag_bits : int
        Width of the owner tag kept beside each word in flip-flops (0: none), so that the owner of
        every queue's oldest word is known in the cycle a wake is decided.

    Attributes
    ----------
    op, queue, word, tag : in
        ``queue`` is the FIFO of the operation; with ``separate_take_queue``, a TAKE reads the FIFO
        on ``take_queue`` instead (so that each address is ready before the operation is decided),
        whose one-hot form is ``take_select`` (each FIFO's head, count and head tag are updated
        from its own bit, with no decoder on the wake path); an APPEND likewise updates the FIFO
        selected by the one-hot ``queue_select``, writing at ``append_slot`` (``queue``'s tail slot,
        selected by the caller from ``tails`` ahead of the APPEND: a TAKE leaves a FIFO's tail
        slot unchanged, so only an APPEND to the same FIFO makes that selection stale).
    data : out
        The word taken by the previous cycle's TAKE.
    counts : out
        ``queues`` counts of ``count_bits`` each, flattened.
    nonempty : out
        One bit per FIFO, "holds a word", kept in a register of its own (no compare of ``counts``
        on the wake path).
    head_tags : out
        ``queues`` tags of the oldest words, flattened (only with ``tag_bits``).
    head_tags_onehot : out
        The same tags one-hot (``1 << tag_bits`` bits each, flattened), kept in registers of their
        own so that a selection by owner is an AND-OR without a decoder.
    """

    def __init__(self, *, queues, depth, tag_bits=0, separate_take_queue=False):
        self._q, self._d, self._t = queues, depth, tag_bits
        self._split = separate_take_queue
        self.queue_bits = max(1, (queues - 1).bit_length())
        self.slot_bits = (depth - 1).bit_length()
        self.count_bits = depth.bit_length()
        members = {
            "op": In(BlockedOp), "queue": In(self.queue_bits), "word": In(64),
            "data": Out(64), "counts": Out(queues * self.count_bits), "nonempty": Out(queues),
        }
        if separate_take_queue:
            members["take_queue"] = In(self.queue_bits)
            members["take_select"] = In(queues)
            members["queue_select"] = In(queues)
            members["append_slot"] = In(self.slot_bits)
            members["tails"] = Out(queues * self.slot_bits)
        if tag_bits:
            members["tag"] = In(tag_bits)
            members["head_tags"] = Out(queues * tag_bits)
            members["head_tags_onehot"] = Out(queues * (1 << tag_bits))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        Q, D, T = self._q, self._d, self._t
        sb, cb = self.slot_bits, self.count_bits
        # The read port's data matters only after a TAKE, which never shares a cycle with an
        # APPEND (the only write): no read-during-write logic.
        m.submodules.mem = mem = Memory(shape=64, depth=(1 << self.queue_bits) * (1 << sb), init=[],
                                        attrs=NO_INIT_NO_RW_CHECK)
        wp, rp = mem.write_port(), mem.read_port()
        m.d.comb += self.data.eq(rp.data)

        head = Array(Signal(sb, name=f"head_{q}") for q in range(Q))
        cnt = Array(Signal(cb, name=f"count_{q}") for q in range(Q))
        nonempty = Array(Signal(name=f"nonempty_{q}") for q in range(Q))
        for q in range(Q):
            m.d.comb += [self.counts[q * cb:(q + 1) * cb].eq(cnt[q]), self.nonempty[q].eq(nonempty[q])]
        if T:
            tags = Array(Array(Signal(T, name=f"tag_{q}_{s}") for s in range(D)) for q in range(Q))
            # The oldest word's tag is kept in a register of its own (updated by the operation that
            # changes the oldest word), so that no wake decision waits for a selection by ``head``.
            head_tag = Array(Signal(T, name=f"head_tag_{q}") for q in range(Q))
            head_oh = Array(Signal(1 << T, name=f"head_tag_onehot_{q}") for q in range(Q))
            for q in range(Q):
                m.d.comb += [self.head_tags[q * T:(q + 1) * T].eq(head_tag[q]),
                             self.head_tags_onehot[q << T:(q + 1) << T].eq(head_oh[q])]

            def set_head_tag(k, value):
                m.d.sync += [head_tag[k].eq(value), head_oh[k].eq(Const(1, 1 << T) << value)]

        q = self.queue
        tq = self.take_queue if self._split else q
        slot = Signal(sb)
        if self._split:
            m.d.comb += slot.eq(self.append_slot)
            if sb:
                for k in range(Q):
                    m.d.comb += self.tails[k * sb:(k + 1) * sb].eq(head[k] + cnt[k])
        else:
            m.d.comb += slot.eq(head[q] + cnt[q])       # wraps: depth is a power of two
        # The addresses do not depend on the operation (the read data is used only after a TAKE,
        # the write is enabled only by an APPEND), which keeps ``op`` off the address paths.
        m.d.comb += [wp.addr.eq(Cat(slot, q)), wp.data.eq(self.word), rp.addr.eq(Cat(head[tq], tq))]
        # The operation is decoded bit by bit (APPEND = 1, TAKE = 2, never 3), so that each
        # enable depends only on the conditions of its own operation: the two are never requested
        # together, so neither is written as the other's "else" (a register that both change
        # takes its value from the APPEND condition and its enable from either).
        if self._split:
            for k in range(Q):
                with m.If(self.op.as_value()[1] & self.take_select[k]):
                    m.d.sync += [head[k].eq(head[k] + 1), cnt[k].eq(cnt[k] - 1),
                                 nonempty[k].eq(cnt[k] != 1)]
                    if T:
                        set_head_tag(k, tags[k][(head[k] + 1)[:sb]])
        else:
            with m.If(self.op.as_value()[1]):
                m.d.sync += [head[tq].eq(head[tq] + 1), cnt[tq].eq(cnt[tq] - 1),
                             nonempty[tq].eq(cnt[tq] != 1)]
                if T:
                    set_head_tag(tq, tags[tq][(head[tq] + 1)[:sb]])
        with m.If(self.op.as_value()[0]):
            m.d.comb += wp.en.eq(1)
            # Per FIFO, from its own registers (its tail slot, its count), so that no register's
            # enable waits for a selection of head and count by the queue number.
            for k in range(Q):
                with m.If(self.queue_select[k] if self._split else q == k):
                    m.d.sync += [cnt[k].eq(cnt[k] + 1), nonempty[k].eq(1)]
                    if T:
                        tail = (head[k] + cnt[k])[:sb]
                        for s_ in range(D):
                            with m.If(tail == s_):
                                m.d.sync += tags[k][s_].eq(self.tag)
                        with m.If(~nonempty[k]):
                            set_head_tag(k, self.tag)
        return m
