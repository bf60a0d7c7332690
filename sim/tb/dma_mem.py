"""AXI4 memory for the DMA testbenches: cocotbext-axi's AxiRam that can answer SLVERR or DECERR
at chosen addresses and pause randomly on every channel."""

from __future__ import annotations

import itertools
import logging
import random

from cocotbext.axi import AxiBus, AxiRam
from cocotbext.axi.constants import AxiResp

from atsoc.sim.model.dma import Fault


__all__ = ["FaultyAxiRam", "Fault"]


class _Injected(Exception):
    pass


class FaultyAxiRam(AxiRam):
    """AxiRam with fault ranges and random pauses.

    A read beat whose word overlaps a fault range with ``"r"`` in its kind returns zeros with
    the range's response; a write beat overlapping a ``"w"`` range is not written and the
    burst's B carries the response (the worst of the burst). cocotbext-axi answers SLVERR for
    a failing access; DECERR is substituted on the way out.

    Parameters
    ----------
    dut, prefix, size
    rng : random.Random or None
        Pauses on AW, W, B, AR, R when given (``pause`` = probability per cycle).
    """

    def __init__(self, dut, prefix="m_axi", *, size=1 << 20, rng=None, pause=0.2):
        super().__init__(AxiBus.from_prefix(dut, prefix), dut.clk, dut.rst, size=size)
        self.faults: list[Fault] = []
        self.reads = self.writes = 0
        #: When a list, every write beat that reaches the memory appends (address, length),
        #: in the order the memory performs them.
        self.write_log: list[tuple[int, int]] | None = None
        for h in (self.write_if, self.read_if):
            h.log.setLevel(logging.WARNING)
        rd, wr = self.read_if, self.write_if
        self._r_resp = None
        self._b_resp = None
        mem = self

        async def _read(address, length):
            r = mem._hit(address, length, "r")
            if r:
                mem._r_resp = r
                raise _Injected()
            return mem.read(address % mem.size, length)

        async def _write(address, data):
            r = mem._hit(address, len(data), "w")
            if r:
                mem._b_resp = max(mem._b_resp or 0, r)
                raise _Injected()
            if mem.write_log is not None:
                mem.write_log.append((address, len(data)))
            mem.write(address % mem.size, data)

        rd._read, wr._write = _read, _write
        r_send, b_send = rd.r_channel.send, wr.b_channel.send

        async def send_r(r):
            if mem._r_resp is not None:
                r.rresp = AxiResp(mem._r_resp)
                mem._r_resp = None
            await r_send(r)

        async def send_b(b):
            if mem._b_resp is not None:
                b.bresp = AxiResp(mem._b_resp)
                mem._b_resp = None
            await b_send(b)

        rd.r_channel.send, wr.b_channel.send = send_r, send_b
        if rng is not None and pause > 0:
            for ch in (wr.aw_channel, wr.w_channel, wr.b_channel, rd.ar_channel, rd.r_channel):
                seq = [rng.random() < pause for _ in range(997)]
                ch.set_pause_generator(itertools.cycle(seq))

    def read(self, address, length):
        """Addresses wrap at the memory size (a 64-bit-address DMA sees it at every 1 MiB)."""
        return super().read(address % self.size, length)

    def write(self, address, data):
        super().write(address % self.size, data)

    def _hit(self, addr, n, kind):
        worst = 0
        for f in self.faults:
            if kind in f.kind and addr < f.end and f.start < addr + n:
                worst = max(worst, f.resp)
        return worst
