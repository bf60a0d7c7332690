"""The byte-wide interface between the MAC engines and a PHY adapter (GMII, MII, RGMII).

Both engines run in their PHY clock domain and advance only on a clock enable (``ce``), so one
engine serves 1 Gb/s GMII (``ce`` always 1), 10/100 Mb/s MII (a byte every other nibble clock)
and RGMII (a byte per clock through DDR buffers).
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


__all__ = ["RxByteSignature", "TxByteSignature"]


class RxByteSignature(wiring.Signature):
    """Received bytes, seen from the PHY adapter (the source).

    Members
    -------
    ce : Out(1)
        A byte time: ``dv``, ``er`` and ``data`` are valid in this cycle.
    dv, er : Out(1)
        GMII RX_DV and RX_ER of the byte.
    data : Out(8)
    """

    def __init__(self):
        super().__init__({"ce": Out(1), "dv": Out(1), "er": Out(1), "data": Out(8)})


class TxByteSignature(wiring.Signature):
    """Transmitted bytes, seen from the MAC's transmit engine (the source).

    Members
    -------
    ce : In(1)
        The adapter takes a byte at the end of this cycle; the engine's ``en``, ``er`` and
        ``data`` (registered outputs) change only after a cycle with ``ce``.
    en, er : Out(1)
        GMII TX_EN and TX_ER of the byte.
    data : Out(8)
    """

    def __init__(self):
        super().__init__({"ce": In(1), "en": Out(1), "er": Out(1), "data": Out(8)})
