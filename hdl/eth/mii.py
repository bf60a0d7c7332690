"""MII adapter (IEEE 802.3 clause 22): 4 bits per clock, 10/100 Mb/s, nibble mode.

Receive: nibbles are registered, the SFD is found as the nibble pair 5, D (low nibble first) at
either nibble alignment, and every following pair becomes a byte (``ce`` every other clock).
rx_er during either nibble marks the byte. When rx_dv falls before an SFD the adapter hands the
engine one byte that is not a preamble byte, so the frame is counted as a preamble error.
Transmit: the engine's byte goes out low nibble first; ``ce`` asks for the next byte every
second clock.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .phy import RxByteSignature, TxByteSignature


__all__ = ["MIIPins", "MIIReceiver", "MIIAdapter"]


class MIIPins(wiring.Signature):
    """MII pins seen from the MAC (clocks excluded)."""

    def __init__(self):
        super().__init__({
            "rxd": In(4), "rx_dv": In(1), "rx_er": In(1),
            "txd": Out(4), "tx_en": Out(1), "tx_er": Out(1),
        })


class MIIReceiver(wiring.Component):
    """MII receive nibbles to the MAC's byte interface (also RGMII at 10/100 Mb/s).

    Parameters
    ----------
    domain : str
        Clock domain of the nibbles (one nibble per clock).

    Attributes
    ----------
    rxd : In(4)
    rx_dv, rx_er : In(1)
        The nibble of this clock (registered here first).
    rx : Out(RxByteSignature)
    """

    def __init__(self, *, domain: str = "eth_rx"):
        self._domain = domain
        super().__init__({"rxd": In(4), "rx_dv": In(1), "rx_er": In(1),
                          "rx": Out(RxByteSignature())})

    def elaborate(self, platform):
        m = Module()
        rxd = m.d[self._domain]
        nib = Signal(4)
        dv = Signal()
        er = Signal()
        rxd += [nib.eq(self.rxd), dv.eq(self.rx_dv), er.eq(self.rx_er)]
        prev = Signal(4)            # previous nibble of the frame
        prev_er = Signal()
        in_frame = Signal()         # rx_dv was high in the previous cycle
        synced = Signal()           # SFD seen: pairing nibbles into bytes
        odd = Signal()              # a low nibble is waiting for its high nibble
        flush = Signal()            # rx_dv fell before an SFD: end the byte frame next cycle
        rxd += [self.rx.ce.eq(0), in_frame.eq(dv)]
        with m.If(flush):
            rxd += [self.rx.ce.eq(1), self.rx.dv.eq(0), self.rx.er.eq(0), flush.eq(0)]
        with m.Elif(dv):
            rxd += [prev.eq(nib), prev_er.eq(er)]
            with m.If(~in_frame):
                rxd += [synced.eq(0), odd.eq(0)]
            with m.Elif(~synced):
                with m.If((prev == 0x5) & (nib == 0xD)):
                    rxd += [synced.eq(1), odd.eq(0), self.rx.ce.eq(1), self.rx.dv.eq(1),
                            self.rx.er.eq(er | prev_er), self.rx.data.eq(0xD5)]
                with m.Elif(nib != 0x5):
                    rxd += [synced.eq(1), odd.eq(0), self.rx.ce.eq(1), self.rx.dv.eq(1),
                            self.rx.er.eq(er), self.rx.data.eq(0x00)]       # not a preamble
            with m.Else():
                with m.If(odd):
                    rxd += [self.rx.ce.eq(1), self.rx.dv.eq(1), self.rx.er.eq(er | prev_er),
                            self.rx.data.eq((nib << 4) | prev), odd.eq(0)]
                with m.Else():
                    rxd += odd.eq(1)
        with m.Elif(in_frame):
            with m.If(synced):
                rxd += [self.rx.ce.eq(1), self.rx.dv.eq(0), self.rx.er.eq(0)]
            with m.Else():
                rxd += [self.rx.ce.eq(1), self.rx.dv.eq(1), self.rx.er.eq(0),
                        self.rx.data.eq(0x00), flush.eq(1)]
        return m


class MIIAdapter(wiring.Component):
    """MII to the MAC's byte interfaces.

    Parameters
    ----------
    rx_domain, tx_domain : str

    Attributes
    ----------
    pins : Out(MIIPins)
    rx : Out(RxByteSignature)
    tx : In(TxByteSignature)
    """

    def __init__(self, *, rx_domain: str = "eth_rx", tx_domain: str = "eth_tx"):
        self._rx_domain = rx_domain
        self._tx_domain = tx_domain
        super().__init__({"pins": Out(MIIPins()), "rx": Out(RxByteSignature()),
                          "tx": In(TxByteSignature())})

    def elaborate(self, platform):
        m = Module()
        txd = m.d[self._tx_domain]

        # -- receive ------------------------------------------------------------------------
        m.submodules.receiver = rcv = MIIReceiver(domain=self._rx_domain)
        m.d.comb += [rcv.rxd.eq(self.pins.rxd), rcv.rx_dv.eq(self.pins.rx_dv),
                     rcv.rx_er.eq(self.pins.rx_er)]
        wiring.connect(m, rcv.rx, wiring.flipped(self.rx))

        # -- transmit -----------------------------------------------------------------------
        high = Signal()
        txd += high.eq(~high)
        m.d.comb += self.tx.ce.eq(high)
        txd += [
            self.pins.txd.eq(Mux(high, self.tx.data[4:], self.tx.data[:4])),
            self.pins.tx_en.eq(self.tx.en), self.pins.tx_er.eq(self.tx.er),
        ]
        return m
