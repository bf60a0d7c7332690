"""IPC channel state: per (process, channel) a pending-send counter and a blocked queue of handlers.

The state of every channel ({pending sends, queue head, queue count}) is one word of a small memory
read asynchronously (LUT RAM on ECP5). An operation is split in two: a *lookup* reads the channel's
state word into registers (in the bus handshake cycle, from the request's address and data), and the
operation on that channel, in the same cycle or any later one, decides from the registered word and
writes the new word back. So the decision never waits for the memory read. Handler words live in
block RAM (``channel * depth + slot``); a TAKE reads the oldest word, which is on ``data`` in the next
cycle.

A channel's state word is meaningful only once the channel has been written since reset: a valid
bit per channel (flip-flops, cleared by reset) marks it, and an invalid channel reads as all zero.
So reset needs no clearing pass over the memory and requests are never held off after reset.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..toplevel import NO_INIT, NO_INIT_NO_RW_CHECK


__all__ = ["ChannelQueues"]


class ChannelQueues(wiring.Component):
    """``channels`` (a power of two) channel states and blocked queues of ``depth`` words.

    Parameters
    ----------
    channels : int
        Number of (process, channel) pairs, a power of two; the index is ``process * 32 + channel``.
    depth : int
        Handlers a channel's queue holds, a power of two.
    pending_limit : int
        Largest pending-send count.

    Attributes
    ----------
    lookup, lookup_channel : in
        Read ``lookup_channel``'s state into the registers below (at the end of the cycle). A lookup
        in the cycle of an operation on the same channel registers the operation's result.
    count, pending : out
        Queue count and pending sends of the channel last looked up (registers).
    take, append, pend_inc, pend_dec : in
        Operations on the channel last looked up (at most one per cycle): take the oldest handler
        (its word is on ``data`` in the next cycle), append ``word``, count a send, consume a
        pending send. The registered state follows the operation.
    write : in
        Write the channel's state word back (with the operation's result, or unchanged). The
        caller raises it for every request that may operate on the channel, whatever it decides,
        so that the memory's write enable does not wait for the decision; an operation without
        ``write`` changes nothing.
    data : out
        The word taken by the previous cycle's ``take``.
    """

    def __init__(self, *, channels, depth, pending_limit):
        self._q, self._d = channels, depth
        self.queue_bits = max(1, (channels - 1).bit_length())
        self.slot_bits = (depth - 1).bit_length()
        self.count_bits = depth.bit_length()
        self.pending_bits = max(1, pending_limit.bit_length())
        #: The channel state memory (an attribute so that tests can start it with any contents).
        self.state_memory = Memory(shape=self.count_bits + self.slot_bits + self.pending_bits,
                                   depth=1 << self.queue_bits, init=[], attrs=NO_INIT)
        super().__init__({
            "lookup": In(1), "lookup_channel": In(self.queue_bits), "word": In(64),
            "count": Out(self.count_bits), "pending": Out(self.pending_bits),
            "take": In(1), "append": In(1), "pend_inc": In(1), "pend_dec": In(1), "write": In(1),
            "data": Out(64),
        })

    def elaborate(self, platform):
        m = Module()
        qb, sb, cb, pb = self.queue_bits, self.slot_bits, self.count_bits, self.pending_bits
        m.submodules.state = state = self.state_memory
        sw, sr = state.write_port(), state.read_port(domain="comb")
        # The read data matters only after a take, which never shares a cycle with an append (the
        # only write): no read-during-write logic.
        m.submodules.words = words = Memory(shape=64, depth=(1 << qb) * (1 << sb), init=[],
                                            attrs=NO_INIT_NO_RW_CHECK)
        ww, wr = words.write_port(), words.read_port()

        # The channel being operated on and its state word (registers, loaded by a lookup).
        ch = Signal(qb)
        word = Signal(cb + sb + pb)
        # Written since reset (reset clears these flip-flops; the memory keeps whatever it held).
        valid = Signal(1 << qb)
        m.d.comb += sr.addr.eq(self.lookup_channel)
        looked_up = Mux(valid.bit_select(self.lookup_channel, 1), sr.data, 0)

        count, head, pending = word[:cb], word[cb:cb + sb], word[cb + sb:]
        m.d.comb += [self.count.eq(count), self.pending.eq(pending), self.data.eq(wr.data)]
        slot = Signal(sb)
        m.d.comb += slot.eq(head + count)              # wraps: depth is a power of two
        # Word addresses independent of the operation (the read data is used only after a take).
        m.d.comb += [ww.addr.eq(Cat(slot, ch) if sb else ch), ww.data.eq(self.word),
                     wr.addr.eq(Cat(head, ch) if sb else ch), ww.en.eq(self.append & self.write)]
        new_count, new_head, new_pending = Signal(cb), Signal(sb), Signal(pb)
        m.d.comb += [new_count.eq(count), new_head.eq(head), new_pending.eq(pending)]
        with m.If(self.take):
            m.d.comb += [new_count.eq(count - 1), new_head.eq(head + 1)]
        with m.If(self.append):
            m.d.comb += new_count.eq(count + 1)
        with m.If(self.pend_inc):
            m.d.comb += new_pending.eq(pending + 1)
        with m.If(self.pend_dec):
            m.d.comb += new_pending.eq(pending - 1)
        new_word = Cat(new_count, new_head, new_pending)
        write = self.write
        m.d.comb += [sw.addr.eq(ch), sw.data.eq(new_word), sw.en.eq(write)]
        with m.If(write):
            m.d.sync += [valid.bit_select(ch, 1).eq(1), word.eq(new_word)]
        with m.If(self.lookup):
            m.d.sync += ch.eq(self.lookup_channel)
            with m.If(write & (self.lookup_channel == ch)):
                m.d.sync += word.eq(new_word)
            with m.Else():
                m.d.sync += word.eq(looked_up)
        return m
