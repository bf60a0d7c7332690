"""Statistics counters and interrupt events, in the system clock domain.

One event per frame arrives from each engine through the top's clock-domain crossing FIFOs; this
module turns each into interrupt-status set pulses and counter updates (the PG138 counters of
:data:`.registers.STAT_COUNTERS`).

The counters live in one small memory (64 words of ``counter_width`` bits, a block RAM on ECP5),
word ``(offset - 0x200) / 8``, updated by a single adder: an event becomes at most five
read-modify-write steps (frames or drop counter, bytes, broadcast/multicast, VLAN, size bin),
issued one per cycle and written back two cycles after their read. The next event starts after
the last write, so every step reads a settled word; an event takes 9 system cycles, far less
than the shortest frame (84 byte times), and events wait in their crossing FIFOs meanwhile.
Register reads share the memory's read port: a read of 0x200..0x3FC is answered from it with
the bank's latency of one cycle (an update step waits for that cycle). After reset the memory is
cleared (64 cycles; counters read 0 meanwhile). A counter read by software lags its frame's
event by at most about ten system cycles.
"""

from amaranth.hdl import Array, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .registers import STAT_COUNTERS
from .rx import RxEvent, RxVerdict
from .tx import TxEvent


__all__ = ["Statistics", "COUNTER_BASE", "counter_index"]

#: Register offset of the first counter word; counter words are 8 bytes apart.
COUNTER_BASE = 0x200
COUNTER_WORDS = 64

#: Frame-size bins (lower bound of each), PG138 RX64B..RX1024BMAX / TX64B..TX1024BMAX.
SIZE_BINS = ((64, "64bl"), (65, "65b127l"), (128, "128b255l"), (256, "256b511l"),
             (512, "512b1023l"), (1024, "1024bmaxl"))

_DROP_COUNTER = {
    RxVerdict.FCS: "rxfcserl", RxVerdict.UNDERSIZE: "rxundrl", RxVerdict.FRAGMENT: "rxfragl",
    RxVerdict.OVERSIZE: "rxovrl", RxVerdict.RX_ER: "rxerrl", RxVerdict.PREAMBLE: "rxaerl",
    RxVerdict.FILTERED: "rxfiltl", RxVerdict.OVERFLOW: "rxovfl",
}
_OFFSET = {name: off for name, off, _ in STAT_COUNTERS}


def counter_index(name: str) -> int:
    """Memory word of counter ``name``."""
    return (_OFFSET[name] - COUNTER_BASE) // 8


for _d in ("rx", "tx"):         # the size bins are consecutive words (base + bin)
    assert [counter_index(_d + s) for _, s in SIZE_BINS] == \
        list(range(counter_index(_d + "64bl"), counter_index(_d + "64bl") + len(SIZE_BINS)))
assert max(counter_index(n) for n in _OFFSET) < COUNTER_WORDS


class Statistics(wiring.Component):
    """Counters and interrupt events.

    Parameters
    ----------
    counter_width : int
    enabled : bool
        Without counters, ``r_data`` reads 0 (the interrupt events remain).

    Attributes
    ----------
    rx : In(stream.Signature(RxEvent))
    tx : In(stream.Signature(TxEvent))
        Events, taken one at a time.
    r_stb : In(1), r_addr : In(12)
        A register read (the bridge's strobe and AR address).
    r_hit : Out(1)
        Registered: the last read was of a counter word (0x200..0x3FC).
    r_data : Out(32)
        Its value, from the cycle after ``r_stb`` until the next ``r_stb`` (0 unless ``r_hit``).
    rx_cmplt, rx_rject, rx_fifo_ovr, tx_cmplt : Out(1)
        One-cycle pulses that set the IS bits.
    """

    def __init__(self, *, counter_width: int = 32, enabled: bool = True, addr_width: int = 12):
        self._cw = counter_width
        self._enabled = enabled
        super().__init__({
            "rx": In(stream.Signature(RxEvent)),
            "tx": In(stream.Signature(TxEvent)),
            "r_stb": In(1), "r_addr": In(addr_width), "r_hit": Out(1), "r_data": Out(32),
            "rx_cmplt": Out(1), "rx_rject": Out(1), "rx_fifo_ovr": Out(1), "tx_cmplt": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cw = self._cw

        # -- take one event at a time: RX first ----------------------------------------------
        idle = Signal()
        take_rx = idle & self.rx.valid
        take_tx = idle & ~self.rx.valid & self.tx.valid
        m.d.comb += [self.rx.ready.eq(take_rx), self.tx.ready.eq(take_tx)]
        rx_p, tx_p = self.rx.payload, self.tx.payload
        m.d.comb += [
            self.rx_cmplt.eq(take_rx & (rx_p.verdict == RxVerdict.OK)),
            self.rx_fifo_ovr.eq(take_rx & (rx_p.verdict == RxVerdict.OVERFLOW)),
            self.rx_rject.eq(take_rx & (rx_p.verdict != RxVerdict.OK)
                             & (rx_p.verdict != RxVerdict.OVERFLOW)),
            self.tx_cmplt.eq(take_tx),
        ]
        if not self._enabled:
            m.d.comb += idle.eq(1)
            return m

        m.submodules.mem = mem = Memory(shape=cw, depth=COUNTER_WORDS, init=[])
        wp = mem.write_port()
        # Transparent: a read of the word written in the same cycle returns the new value. The steps
        # of one event use distinct words, so only a register read can collide (and then sees the
        # newer count); it is also the cheaper collision logic on ECP5 (scripts/ecp5.py).
        rp = mem.read_port(transparent_for=(wp,))

        # The event being counted, as one layout: direction, ok, length, classes, drop counter.
        is_rx = Signal()
        ok = Signal()
        length = Signal(14)
        bcast, mcast, vlan = Signal(), Signal(), Signal()
        drop = Signal(range(COUNTER_WORDS))
        by_value = {v.value: counter_index(name) for v, name in _DROP_COUNTER.items()}
        drop_of = Array(Const(by_value.get(v, 0), 6) for v in range(16))
        with m.If(take_rx):
            m.d.sync += [is_rx.eq(1), ok.eq(rx_p.verdict == RxVerdict.OK), length.eq(rx_p.length),
                         bcast.eq(rx_p.broadcast), mcast.eq(rx_p.multicast), vlan.eq(rx_p.vlan),
                         drop.eq(drop_of[rx_p.verdict.as_value()])]
        with m.If(take_tx):
            m.d.sync += [is_rx.eq(0), ok.eq(~tx_p.underrun), length.eq(tx_p.length),
                         bcast.eq(tx_p.broadcast), mcast.eq(tx_p.multicast), vlan.eq(tx_p.vlan),
                         drop.eq(counter_index("txundrerl"))]

        def idx(name_rx, name_tx):
            return Mux(is_rx, counter_index(name_rx), counter_index(name_tx))

        size_bin = Signal(range(len(SIZE_BINS)))
        for i, (low, _) in enumerate(SIZE_BINS):
            if i:
                with m.If(length >= low):
                    m.d.comb += size_bin.eq(i)
        # The steps of the event: (word, adds the length (else 1), enable). ``length`` stays
        # unchanged until the event's last write-back, so the pipeline carries one flag.
        steps = [
            (Mux(ok, idx("rxfl", "txfl"), drop), 0, 1),
            (idx("rxbl", "txbl"), 1, ok),
            (Mux(bcast, idx("rxbcstfl", "txbcstfl"), idx("rxmcstfl", "txmcstfl")), 0,
             ok & (bcast | mcast)),
            (idx("rxvlanfl", "txvlanfl"), 0, ok & vlan),
            (idx("rx64bl", "tx64bl") + size_bin, 0, ok),
        ]
        n_steps = len(steps)
        step = Signal(range(n_steps + 2))       # step to issue; then n_steps, n_steps+1: draining
        step_next = Signal.like(step)
        running = Signal()
        prep = Signal()                         # first cycle of an event: its first step is looked up
        # The step table is looked up for the *next* step and registered, so that the read
        # address comes from registers (the size-bin comparisons stay out of the memory path).
        step_word = Signal(range(COUNTER_WORDS))
        step_bytes = Signal()
        step_en = Signal()
        with m.Switch(step_next):
            for i, (w, a, e) in enumerate(steps):
                with m.Case(i):
                    m.d.sync += [step_word.eq(w), step_bytes.eq(a), step_en.eq(e)]

        # Read port: a register read wins; an update step waits for it.
        bus_hit = self.r_stb & self.r_addr[9] & (self.r_addr[10:] == 0)
        clearing = Signal(init=1)
        clear_word = Signal(range(COUNTER_WORDS))
        issue = running & ~prep & (step < n_steps) & ~bus_hit
        m.d.comb += [rp.addr.eq(Mux(bus_hit, self.r_addr[3:9], step_word)), rp.en.eq(1)]

        # Pipeline: read (issue) -> read data registered -> write back the sum.
        p1_valid, p1_word, p1_bytes = Signal(), Signal(range(COUNTER_WORDS)), Signal()
        p2_valid, p2_word, p2_bytes = Signal(), Signal(range(COUNTER_WORDS)), Signal()
        p2_data = Signal(cw)
        m.d.sync += [p1_valid.eq(issue & step_en), p1_word.eq(step_word), p1_bytes.eq(step_bytes),
                     p2_valid.eq(p1_valid), p2_word.eq(p1_word), p2_bytes.eq(p1_bytes),
                     p2_data.eq(rp.data)]
        p2_amount = Mux(p2_bytes, length, 1)
        with m.If(clearing):
            m.d.comb += [wp.addr.eq(clear_word), wp.data.eq(0), wp.en.eq(1)]
            m.d.sync += clear_word.eq(clear_word + 1)
            with m.If(clear_word == COUNTER_WORDS - 1):
                m.d.sync += clearing.eq(0)
        with m.Else():
            m.d.comb += [wp.addr.eq(p2_word), wp.data.eq(p2_data + p2_amount), wp.en.eq(p2_valid)]

        # Sequencer: idle -> prep -> steps 0..4 (a step waits while a register read uses the
        # port) -> two cycles for the last write-backs -> idle.
        m.d.comb += idle.eq(~clearing & ~running)
        m.d.comb += step_next.eq(step)
        with m.If(running & ~prep & (step != n_steps + 1) & (issue | (step >= n_steps))):
            m.d.comb += step_next.eq(step + 1)
        m.d.sync += step.eq(step_next)
        with m.If(take_rx | take_tx):
            m.d.sync += [running.eq(1), prep.eq(1), step.eq(0)]
        with m.Elif(prep):
            m.d.sync += prep.eq(0)
        with m.Elif(running & (step == n_steps + 1)):
            m.d.sync += running.eq(0)

        # Register reads: data from the read port in the cycle after r_stb, then held.
        first = Signal()
        held = Signal(cw)
        m.d.sync += first.eq(bus_hit)
        with m.If(first):
            m.d.sync += held.eq(rp.data)
        with m.If(self.r_stb):
            m.d.sync += self.r_hit.eq(bus_hit & ~self.r_addr[2] & ~clearing)
        m.d.comb += self.r_data.eq(Mux(self.r_hit, Mux(first, rp.data, held), 0))
        return m
