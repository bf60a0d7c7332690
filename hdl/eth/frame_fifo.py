"""Dual-clock frame FIFO: the writer publishes whole frames (commit) or forgets them (rollback).

One block-RAM FIFO per direction is both the frame store and the clock-domain crossing:

* TX (``sync`` -> ``eth_tx``): the store-and-forward FIFO. The write pointer crosses only when a
  frame's last byte is written, so the transmit engine sees a frame once it is complete and
  needs no separate frame count (dma_eth.md: "a store-and-forward FIFO so a slow DMA never
  causes an underrun"). A frame longer than the FIFO is published byte by byte once it fills
  the FIFO alone (cut-through; see ``EthMAC``).
* RX (``eth_rx`` -> ``sync``): the receive engine writes a frame as it arrives; at its end the
  frame is committed (delivered) or rolled back (its space is reused), so whole frames are kept
  or dropped and the PHY side never waits (dma_eth.md, "Receive").

Pointers are ``log2(depth) + 1`` bits. The read pointer moves by at most one entry per read
clock, so it crosses gray-coded through two flip-flop synchronisers per bit, as in
``amaranth.lib.fifo.AsyncFIFO``, whose read side this follows: the read port is addressed with
the next read position, so ``r_data`` is the head of the FIFO whenever ``r_rdy``. The published
write pointer jumps by a whole frame at a commit: in gray code several bits would change at once,
and a synchroniser sampling during the change (the bits' routes differ by up to nanoseconds,
unconstrained between clocks) could see a mix of old and new bits, a pointer beyond the
committed data. So it crosses as a held value on a handshake (:class:`.cdc.HandshakeCrossing`):
the writer copies its committed position into a register that stays still until the reader has
captured it; commits in the meantime are published by the next handshake (a few cycles each).
Read and write ports are in different clock domains, so the block RAM needs no read/write
collision logic.

With ``lanes > 1`` an entry (a word) has ``lanes`` lanes that are written one at a time, in
order, through a write port with lane enables (byte enables of the block RAM: DP16KD writes
9-bit bytes), and read a whole word at a time: the RX buffer of a 32-bit MAC is written a byte per
receive clock and drained a word per system clock. A word is complete when its top lane is
written, or with ``w_end`` or ``commit`` (the next frame starts at lane 0); the lanes above a
frame's last are left as they were, and the reader tells them by a flag in each lane (see
``EthMAC``). The RX buffer ends the frame's word with its last byte (``w_end``) and commits a few
cycles later, once the receive engine has registered its verdict.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .cdc import HandshakeCrossing


__all__ = ["AsyncFrameFIFO"]


def _gray(v):
    return v ^ v[1:]


class AsyncFrameFIFO(wiring.Component):
    """Dual-clock FIFO whose write side commits or rolls back.

    Parameters
    ----------
    width : int
        Bits per entry.
    depth : int
        Entries, a power of two.
    w_domain, r_domain : str
        Write and read clock domains.
    rollback : bool
        Implement ``rollback``.
    lanes : int
        Lanes per entry (a power of two): ``w_data`` is one lane, ``r_data`` ``lanes`` of them
        (lane 0 in the low bits).
    r_register : bool
        ``r_data`` and ``r_rdy`` come from flip-flops (an output register after the block RAM,
        filled a cycle ahead; still an entry per cycle, one cycle more latency), so the reader's
        logic does not follow the block RAM's clock-to-output (4.3 ns on ECP5).

    Attributes
    ----------
    w_data : In(width), w_en : In(1)
        Write an entry, or with ``lanes > 1`` the next lane of the current word (taken when
        ``w_rdy``).
    w_rdy : Out(1)
        Not full (a register).
    w_end : In(1)
        With ``lanes > 1``: a write in this cycle ends the word (the next write goes to lane 0
        of the next entry).
    commit : In(1)
        Publish every entry written so far, including a write in this cycle. With ``lanes > 1``
        a write in the same cycle ends the word; a word not ended by a write is not published.
    rollback : In(1)
        Forget the entries written since the last commit (not with ``commit``; ignored without
        the ``rollback`` parameter).
    w_drained : Out(1)
        Write side: every published entry has been read (as far as the write side knows): a full
        FIFO then holds only uncommitted entries.
    r_data : Out(width * lanes), r_rdy : Out(1), r_en : In(1)
        Read side: ``r_data`` is the oldest published entry while ``r_rdy``; ``r_en`` pops it.
    """

    def __init__(self, width: int, depth: int, *, w_domain: str, r_domain: str, rollback: bool = True,
                 lanes: int = 1, r_register: bool = False):
        if depth < 2 or depth & (depth - 1):
            raise ValueError(f"depth must be a power of two of at least 2, not {depth}")
        if lanes < 1 or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a power of two, not {lanes}")
        self._width, self._depth, self._lanes = width, depth, lanes
        self._w, self._r = w_domain, r_domain
        self._rollback = rollback
        self._r_register = r_register
        super().__init__({
            "w_data": In(width), "w_en": In(1), "w_rdy": Out(1), "w_end": In(1),
            "commit": In(1), "rollback": In(1), "w_drained": Out(1),
            "r_data": Out(width * lanes), "r_rdy": Out(1), "r_en": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        abits = self._depth.bit_length() - 1
        pbits = abits + 1
        wd, rd = m.d[self._w], m.d[self._r]
        lanes = self._lanes
        m.submodules.mem = mem = Memory(shape=self._width * lanes, depth=self._depth, init=[])
        wp = mem.write_port(domain=self._w, granularity=self._width if lanes > 1 else None)
        rp = mem.read_port(domain=self._r, transparent_for=())

        # -- write side ----------------------------------------------------------------------
        w_bin = Signal(pbits)               # next write position
        w_com = Signal(pbits)               # end of the committed entries
        w_pub = Signal(pbits)               # a copy of ``w_com``, held while it crosses
        r_gray = Signal(pbits)              # read side: gray(r_bin)
        r_gray_w = Signal(pbits)            # the read position, gray, synchronised
        m.submodules.r_sync = FFSynchronizer(r_gray, r_gray_w, o_domain=self._w)
        # "Full" is registered: computed in gray code from the position after this cycle's
        # write (no binary decode of the synchronised pointer, whose XOR chain would otherwise
        # precede the writer's logic), with the read pointer as synchronised one cycle before
        # (as if the synchroniser had one more stage) and without the space that a rollback in
        # this cycle frees: it can only be late to clear, never late to set.
        full = Signal()
        write = self.w_en & ~full
        # With lanes, the write position moves on when a word is complete (``word_end``).
        if lanes > 1:
            w_lane = Signal(range(lanes))
            word_end = write & ((w_lane == lanes - 1) | self.w_end | self.commit)
        else:
            word_end = write
        w_next = Signal(pbits)
        top2 = 0b11 << (pbits - 2)
        # The write enable only selects between results computed from registers (no carry
        # chain or compare after it), so a writer's late enable costs one multiplexer.
        w_inc = Signal(pbits)
        m.d.comb += w_inc.eq(w_bin + 1)
        full_after = Signal()
        full_inc = Signal()
        m.d.comb += [full_after.eq(_gray(w_bin) == (r_gray_w ^ top2)),
                     full_inc.eq(_gray(w_inc) == (r_gray_w ^ top2))]
        wd += full.eq(Mux(word_end, full_inc, full_after))
        m.d.comb += [
            self.w_rdy.eq(~full),
            self.w_drained.eq(r_gray_w == _gray(w_com)),
            w_next.eq(Mux(word_end, w_inc, w_bin)),
            wp.addr.eq(w_bin[:abits]),
        ]
        if lanes > 1:
            m.d.comb += [wp.data.eq(self.w_data.replicate(lanes)),
                         wp.en.eq(Cat(write & (w_lane == i) for i in range(lanes)))]
            with m.If((self.rollback if self._rollback else 0) | word_end):
                wd += w_lane.eq(0)
            with m.Elif(write):
                wd += w_lane.eq(w_lane + 1)
        else:
            m.d.comb += [wp.data.eq(self.w_data), wp.en.eq(write)]
        with m.If(self.commit):
            wd += w_com.eq(w_next)
        if self._rollback:
            with m.If(self.rollback):
                wd += w_bin.eq(w_com)
            with m.Else():
                wd += w_bin.eq(w_next)
        else:
            wd += w_bin.eq(w_next)
        # Publication: when the crossing is free and there is something new, copy ``w_com``
        # into ``w_pub``, then (next cycle, the copy settled) start the handshake.
        m.submodules.w_cross = w_cross = HandshakeCrossing(pbits, i_domain=self._w, o_domain=self._r)
        pub_start = Signal()
        wd += pub_start.eq(0)
        with m.If(~w_cross.i_busy & ~pub_start & (w_pub != w_com)):
            wd += [w_pub.eq(w_com), pub_start.eq(1)]
        m.d.comb += [w_cross.i_data.eq(w_pub), w_cross.i_start.eq(pub_start), w_cross.o_ready.eq(1)]

        # -- read side -----------------------------------------------------------------------
        w_pub_r = Signal(pbits)             # the published position, captured
        with m.If(w_cross.o_valid):
            rd += w_pub_r.eq(w_cross.o_data)
        r_bin = Signal(pbits)
        published = r_bin != w_pub_r
        r_next = Signal(pbits)
        rd += r_bin.eq(r_next)
        if not self._r_register:
            m.d.comb += self.r_rdy.eq(published)
            m.d.comb += r_next.eq(r_bin + (self.r_en & self.r_rdy))
            rd += r_gray.eq(_gray(r_next))
            m.d.comb += [rp.addr.eq(r_next[:abits]), self.r_data.eq(rp.data)]
            return m
        # Two stages: the block RAM's output (``mem_full``: it holds the entry read last, kept
        # with the read enable low) and the output register. ``r_bin`` counts the entries read
        # from the memory: both stages hold copies, so the writer may reuse their places.
        # "Published entries left" is a register here, the mirror of "full": computed from the
        # position after this cycle's read (``r_bin`` or ``r_bin + 1``, both from registers)
        # against the published pointer as synchronised one cycle before; it can only be late
        # to set, never late to clear. The read only selects.
        left = Signal()
        r_inc = Signal(pbits)
        left_same, left_inc = Signal(), Signal()
        m.d.comb += [r_inc.eq(r_bin + 1), left_same.eq(published),
                     left_inc.eq(r_inc != w_pub_r)]
        mem_full = Signal()
        out_full = Signal()
        out_data = Signal(self._width * lanes)
        load = mem_full & (~out_full | self.r_en)       # the memory's entry moves out
        issue = (~mem_full | load) & left                # and the next one is read
        rd += left.eq(Mux(issue, left_inc, left_same))
        m.d.comb += [r_next.eq(Mux(issue, r_inc, r_bin)), rp.addr.eq(r_bin[:abits]), rp.en.eq(issue),
                     self.r_rdy.eq(out_full), self.r_data.eq(out_data)]
        rd += [r_gray.eq(_gray(r_next)), mem_full.eq(issue | (mem_full & ~load))]
        with m.If(load):
            rd += [out_full.eq(1), out_data.eq(rp.data)]
        with m.Elif(self.r_en):
            rd += out_full.eq(0)
        return m
