"""Statistics counters and interrupt events, in the system clock domain.

One event per frame arrives from each engine through the top's clock-domain crossing FIFOs; this
module turns each into counter increments (the PG138 counters of :data:`.registers.STAT_COUNTERS`)
and interrupt-status set pulses. Events are registered once, then counted: a counter read by
software lags the event by at most two system cycles after the event leaves its FIFO.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .registers import STAT_COUNTERS
from .rx import RxEvent, RxVerdict
from .tx import TxEvent


__all__ = ["Statistics"]

#: Frame-size bins (lower bound of each), PG138 RX64B..RX1024BMAX / TX64B..TX1024BMAX.
SIZE_BINS = ((64, "64bl"), (65, "65b127l"), (128, "128b255l"), (256, "256b511l"),
             (512, "512b1023l"), (1024, "1024bmaxl"))

_DROP_COUNTER = {
    RxVerdict.FCS: "rxfcserl", RxVerdict.UNDERSIZE: "rxundrl", RxVerdict.FRAGMENT: "rxfragl",
    RxVerdict.OVERSIZE: "rxovrl", RxVerdict.RX_ER: "rxerrl", RxVerdict.PREAMBLE: "rxaerl",
    RxVerdict.FILTERED: "rxfiltl", RxVerdict.OVERFLOW: "rxovfl",
}


class Statistics(wiring.Component):
    """Counters and interrupt events.

    Parameters
    ----------
    counter_width : int
    enabled : bool
        Without counters, ``counters`` reads 0 (the interrupt events remain).

    Attributes
    ----------
    rx : In(stream.Signature(RxEvent))
    tx : In(stream.Signature(TxEvent))
        Events; both are always taken (``ready`` is 1).
    counters : Out(struct of one ``counter_width`` field per counter)
    rx_cmplt, rx_rject, rx_fifo_ovr, tx_cmplt : Out(1)
        One-cycle pulses that set the IS bits.
    """

    def __init__(self, *, counter_width: int = 32, enabled: bool = True):
        self._cw = counter_width
        self._enabled = enabled
        super().__init__({
            "rx": In(stream.Signature(RxEvent)),
            "tx": In(stream.Signature(TxEvent)),
            "counters": Out(data.StructLayout({n: counter_width for n, _, _ in STAT_COUNTERS})),
            "rx_cmplt": Out(1), "rx_rject": Out(1), "rx_fifo_ovr": Out(1), "tx_cmplt": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.rx.ready.eq(1), self.tx.ready.eq(1)]
        rx_v, tx_v = Signal(), Signal()
        rx_e, tx_e = Signal(RxEvent), Signal(TxEvent)
        m.d.sync += [rx_v.eq(self.rx.valid), tx_v.eq(self.tx.valid)]
        with m.If(self.rx.valid):
            m.d.sync += rx_e.eq(self.rx.payload)
        with m.If(self.tx.valid):
            m.d.sync += tx_e.eq(self.tx.payload)

        rx_ok = rx_v & (rx_e.verdict == RxVerdict.OK)
        tx_ok = tx_v & ~tx_e.underrun
        m.d.comb += [
            self.rx_cmplt.eq(rx_ok),
            self.rx_fifo_ovr.eq(rx_v & (rx_e.verdict == RxVerdict.OVERFLOW)),
            self.rx_rject.eq(rx_v & (rx_e.verdict != RxVerdict.OK)
                             & (rx_e.verdict != RxVerdict.OVERFLOW)),
            self.tx_cmplt.eq(tx_v),
        ]
        if not self._enabled:
            return m

        cnt = self.counters

        def count(name, cond, amount=1):
            c = getattr(cnt, name)
            with m.If(cond):
                m.d.sync += c.eq(c + amount)

        def sizes(prefix, ok, length):
            for i, (low, suffix) in enumerate(SIZE_BINS):
                cond = ok & (length >= low)
                if i + 1 < len(SIZE_BINS):
                    cond &= length < SIZE_BINS[i + 1][0]
                count(prefix + suffix, cond)

        count("rxfl", rx_ok)
        count("rxbl", rx_ok, rx_e.length)
        count("rxbcstfl", rx_ok & rx_e.broadcast)
        count("rxmcstfl", rx_ok & rx_e.multicast)
        count("rxvlanfl", rx_ok & rx_e.vlan)
        sizes("rx", rx_ok, rx_e.length)
        for verdict, name in _DROP_COUNTER.items():
            count(name, rx_v & (rx_e.verdict == verdict))

        count("txfl", tx_ok)
        count("txbl", tx_ok, tx_e.length)
        count("txbcstfl", tx_ok & tx_e.broadcast)
        count("txmcstfl", tx_ok & tx_e.multicast)
        count("txvlanfl", tx_ok & tx_e.vlan)
        count("txundrerl", tx_v & tx_e.underrun)
        sizes("tx", tx_ok, tx_e.length)
        return m
