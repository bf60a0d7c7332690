"""GMII adapter (IEEE 802.3 clause 35): 8 bits per clock, 1 Gb/s.

Receive inputs are registered in the receive clock domain (the flip-flops an FPGA places in its
I/O cells); the transmit engine's outputs are registers already, so they drive the pins directly.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .phy import RxByteSignature, TxByteSignature


__all__ = ["GMIIPins", "GMIIAdapter"]


class GMIIPins(wiring.Signature):
    """GMII pins seen from the MAC (clocks excluded: they are the domains' clocks)."""

    def __init__(self):
        super().__init__({
            "rxd": In(8), "rx_dv": In(1), "rx_er": In(1),
            "txd": Out(8), "tx_en": Out(1), "tx_er": Out(1),
        })


class GMIIAdapter(wiring.Component):
    """GMII to the MAC's byte interfaces.

    Parameters
    ----------
    rx_domain : str
        Clock domain of the receive pins.

    Attributes
    ----------
    pins : Out(GMIIPins)
    rx : Out(RxByteSignature)
        One byte per clock (``ce`` is 1), one cycle after the pins.
    tx : In(TxByteSignature)
    """

    def __init__(self, *, rx_domain: str = "eth_rx"):
        self._rx_domain = rx_domain
        super().__init__({"pins": Out(GMIIPins()), "rx": Out(RxByteSignature()),
                          "tx": In(TxByteSignature())})

    def elaborate(self, platform):
        m = Module()
        rx = m.d[self._rx_domain]
        rx += [self.rx.data.eq(self.pins.rxd), self.rx.dv.eq(self.pins.rx_dv),
               self.rx.er.eq(self.pins.rx_er)]
        m.d.comb += [
            self.rx.ce.eq(1), self.tx.ce.eq(1),
            self.pins.txd.eq(self.tx.data), self.pins.tx_en.eq(self.tx.en),
            self.pins.tx_er.eq(self.tx.er),
        ]
        return m
