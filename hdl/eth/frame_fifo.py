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

Pointers are ``log2(depth) + 1`` bits, binary in their own domain and gray-coded across (two
flip-flop synchronisers per bit), as in ``amaranth.lib.fifo.AsyncFIFO``, whose read side this
follows: the read port is addressed with the next read position, so ``r_data`` is the head of
the FIFO whenever ``r_rdy``. Read and write ports are in different clock domains, so the block
RAM needs no read/write collision logic.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out


__all__ = ["AsyncFrameFIFO"]


def _gray(v):
    return v ^ v[1:]


def _binary(g):
    bits = [g[-1]]
    for i in reversed(range(len(g) - 1)):
        bits.insert(0, bits[0] ^ g[i])
    return Cat(*bits)


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

    Attributes
    ----------
    w_data : In(width), w_en : In(1)
        Write an entry (taken when ``w_rdy``).
    w_rdy : Out(1)
        Not full.
    commit : In(1)
        Publish every entry written so far, including a write in this cycle.
    rollback : In(1)
        Forget the entries written since the last commit (not with ``commit``).
    w_drained : Out(1)
        Write side: every published entry has been read (as far as the write side knows): a full
        FIFO then holds only uncommitted entries.
    r_data : Out(width), r_rdy : Out(1), r_en : In(1)
        Read side: ``r_data`` is the oldest published entry while ``r_rdy``; ``r_en`` pops it.
    """

    def __init__(self, width: int, depth: int, *, w_domain: str, r_domain: str):
        if depth < 2 or depth & (depth - 1):
            raise ValueError(f"depth must be a power of two of at least 2, not {depth}")
        self._width, self._depth = width, depth
        self._w, self._r = w_domain, r_domain
        super().__init__({
            "w_data": In(width), "w_en": In(1), "w_rdy": Out(1),
            "commit": In(1), "rollback": In(1), "w_drained": Out(1),
            "r_data": Out(width), "r_rdy": Out(1), "r_en": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        abits = self._depth.bit_length() - 1
        pbits = abits + 1
        wd, rd = m.d[self._w], m.d[self._r]
        m.submodules.mem = mem = Memory(shape=self._width, depth=self._depth, init=[])
        wp = mem.write_port(domain=self._w)
        rp = mem.read_port(domain=self._r, transparent_for=())

        # -- write side ----------------------------------------------------------------------
        w_bin = Signal(pbits)               # next write position
        w_com = Signal(pbits)               # end of the committed entries
        w_pub = Signal(pbits)               # gray(w_com), crosses to the read side
        r_gray = Signal(pbits)              # read side: gray(r_bin)
        r_gray_w = Signal(pbits)            # the read position, gray, synchronised
        m.submodules.r_sync = FFSynchronizer(r_gray, r_gray_w, o_domain=self._w)
        r_bin_w = _binary(r_gray_w)
        full = (w_bin[:abits] == r_bin_w[:abits]) & (w_bin[abits] != r_bin_w[abits])
        write = self.w_en & ~full
        w_next = Signal(pbits)
        m.d.comb += [
            self.w_rdy.eq(~full),
            self.w_drained.eq(r_gray_w == w_pub),
            w_next.eq(w_bin + write),
            wp.addr.eq(w_bin[:abits]), wp.data.eq(self.w_data), wp.en.eq(write),
        ]
        with m.If(self.rollback):
            wd += w_bin.eq(w_com)
        with m.Else():
            wd += w_bin.eq(w_next)
        with m.If(self.commit):
            wd += [w_com.eq(w_next), w_pub.eq(_gray(w_next))]

        # -- read side -----------------------------------------------------------------------
        w_pub_r = Signal(pbits)
        m.submodules.w_sync = FFSynchronizer(w_pub, w_pub_r, o_domain=self._r)
        r_bin = Signal(pbits)
        m.d.comb += self.r_rdy.eq(r_gray != w_pub_r)
        r_next = Signal(pbits)
        m.d.comb += r_next.eq(r_bin + (self.r_en & self.r_rdy))
        rd += [r_bin.eq(r_next), r_gray.eq(_gray(r_next))]
        m.d.comb += [rp.addr.eq(r_next[:abits]), self.r_data.eq(rp.data)]
        return m
