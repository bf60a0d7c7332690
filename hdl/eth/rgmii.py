"""RGMII adapter (RGMII v2.0): 4 data bits on both clock edges at 1 Gb/s, 4 bits per clock at
10/100 Mb/s, through double data rate I/O.

Two ways to build it, with the same logic behind the DDR registers:

* ``RGMIIAdapter(pads)`` on a board: ``pads`` holds the platform's RGMII I/O ports (for example
  ``platform.request("eth_rgmii", 0, dir="-")`` of amaranth-boards); every data and control pin
  goes through :class:`amaranth.lib.io.DDRBuffer` (IDDRX1F/ODDRX1F on ECP5), ``rx_clk`` through
  :class:`amaranth.lib.io.Buffer`, with a 125 MHz clock constraint added on it.
* ``RGMIIAdapter()`` for simulation and plain Verilog: the component gets a ``pins`` member
  (signals) and the DDR registers are behavioural (:class:`BehaviouralDDRInput`,
  :class:`BehaviouralDDROutput`: a rising-edge and a falling-edge register per bit, with the
  latencies of ``DDRBuffer``), which Verilator simulates.

Receive (``rx_clk`` domain, the PHY's clock): at 1 Gb/s RXD carries bits 3:0 of a byte at the
rising edge and bits 7:4 at the falling edge; RX_CTL carries RX_DV at the rising edge and
RX_DV XOR RX_ER at the falling edge. At 10/100 Mb/s (``rx_clk`` 25 or 2.5 MHz) one nibble per
clock, taken at the rising edge, paired into bytes by the MII receive logic (:class:`MIIReceiver`).

Transmit (``tx`` domain, 125 MHz at every speed): ``tx_clk`` is produced by a DDR output like
the data (high half-cycle then low half-cycle), so it leaves the FPGA *edge-aligned* with TXD
and TX_CTL. The 90-degree (about 2 ns) shift that RGMII needs between clock and data is the
PHY's job (RGMII-ID internal delays, set by straps or MDIO) or the board's (delay traces), in
both directions: the adapter samples RXD at the edges of ``rx_clk`` as it arrives. At 10/100
Mb/s the 125 MHz domain makes a 25 MHz (or 2.5 MHz) ``tx_clk`` out of the DDR half-cycles
(5 or 50 cycles per clock period) and holds each nibble for one period; TX_CTL is TX_EN while
``tx_clk`` is high and TX_EN XOR TX_ER while it is low.

Speed: ``rx_speed`` and ``tx_speed`` (EMMC.speed, synchronised by the MAC): 0b10 (or 0b11)
1 Gb/s, 0b01 100 Mb/s, 0b00 10 Mb/s.
"""

from amaranth.hdl import Cat, ClockDomain, ClockSignal, Module, Mux, Signal
from amaranth.lib import data, io, wiring
from amaranth.lib.wiring import In, Out

from .mii import MIIReceiver
from .phy import RxByteSignature, TxByteSignature


__all__ = ["RGMIIPins", "RGMIIAdapter", "BehaviouralDDRInput", "BehaviouralDDROutput",
           "rgmii_pad_names"]

#: Speed codes of EMMC.speed (PG138).
SPEED_10, SPEED_100, SPEED_1000 = 0b00, 0b01, 0b10


class RGMIIPins(wiring.Signature):
    """RGMII pins seen from the MAC (the simulation/Verilog form of the adapter)."""

    def __init__(self):
        super().__init__({
            "rx_clk": In(1), "rx_ctl": In(1), "rxd": In(4),
            "tx_clk": Out(1), "tx_ctl": Out(1), "txd": Out(4),
        })



def _falling_edge_domain(m: Module, domain: str) -> str:
    """Add a local, reset-less domain clocked on the falling edge of ``domain``'s clock; its name."""
    neg = f"{domain}_ddr_neg"
    m.domains += ClockDomain(neg, clk_edge="neg", local=True, reset_less=True)
    m.d.comb += ClockSignal(neg).eq(ClockSignal(domain))
    return neg

class BehaviouralDDRInput(wiring.Component):
    """Behavioural DDR input register (the ``i`` side of :class:`amaranth.lib.io.DDRBuffer`).

    ``i[0]`` is the pin sampled at a rising edge, ``i[1]`` at the following falling edge; both
    appear after the next rising edge (input latency 1, as ``DDRBuffer`` documents).

    Parameters
    ----------
    width : int
    domain : str
        Rising-edge clock domain.
    """

    def __init__(self, width: int, domain: str):
        self._domain = domain
        super().__init__({"port": In(width), "i": Out(data.ArrayLayout(width, 2))})

    def elaborate(self, platform):
        m = Module()
        neg = _falling_edge_domain(m, self._domain)
        width = len(self.port)
        rise, fall = Signal(width), Signal(width)
        m.d[self._domain] += rise.eq(self.port)
        m.d[neg] += fall.eq(self.port)
        m.d[self._domain] += [self.i[0].eq(rise), self.i[1].eq(fall)]
        return m


class BehaviouralDDROutput(wiring.Component):
    """Behavioural DDR output register (the ``o`` side of :class:`amaranth.lib.io.DDRBuffer`).

    ``o`` is taken at a rising edge; ``o[0]`` drives the pin for the high half of the following
    cycle and ``o[1]`` for its low half (output latency 1). The pin is a multiplexer on the
    clock: simulation only (on an FPGA this is the ODDR primitive).

    Parameters
    ----------
    width : int
    domain : str
        Rising-edge clock domain.
    """

    def __init__(self, width: int, domain: str):
        self._domain = domain
        super().__init__({"port": Out(width), "o": In(data.ArrayLayout(width, 2))})

    def elaborate(self, platform):
        m = Module()
        neg = _falling_edge_domain(m, self._domain)
        width = len(self.port)
        q0, q1, q1_neg = Signal(width), Signal(width), Signal(width)
        m.d[self._domain] += [q0.eq(self.o[0]), q1.eq(self.o[1])]
        m.d[neg] += q1_neg.eq(q1)
        m.d.comb += self.port.eq(Mux(ClockSignal(self._domain), q0, q1_neg))
        return m


#: Accepted subsignal names of an RGMII resource: amaranth-boards uses ``tx_data``/``rx_data``
#: and ``tx_ctl`` (some boards ``tx_ctrl``).
_PAD_NAMES = {
    "rx_clk": ("rx_clk",), "rx_ctl": ("rx_ctl", "rx_ctrl"), "rxd": ("rx_data", "rxd"),
    "tx_clk": ("tx_clk",), "tx_ctl": ("tx_ctl", "tx_ctrl"), "txd": ("tx_data", "txd"),
}


def rgmii_pad_names(pads) -> dict:
    """The six RGMII I/O ports of ``pads`` by our names (``rx_clk``, ``rx_ctl``, ``rxd``, ...)."""
    out = {}
    for name, candidates in _PAD_NAMES.items():
        for c in candidates:
            if hasattr(pads, c):
                out[name] = getattr(pads, c)
                break
        else:
            raise ValueError(f"RGMII pads have no {' or '.join(candidates)} member")
    return out


class RGMIIAdapter(wiring.Component):
    """RGMII to the MAC's byte interfaces, 10/100/1000 Mb/s.

    Parameters
    ----------
    pads : object, optional
        The platform's RGMII I/O ports, as ``platform.request("eth_rgmii", 0, dir="-")`` returns
        them (members ``rx_clk``, ``rx_ctl``/``rx_ctrl``, ``rx_data``, ``tx_clk``,
        ``tx_ctl``/``tx_ctrl``, ``tx_data``; ``rxd``/``txd`` also accepted). The adapter
        instantiates ``io.Buffer``/``io.DDRBuffer`` on them (needs a platform with DDR I/O,
        such as ECP5). ``None`` (default): behavioural DDR registers and a ``pins`` member.
    rx_domain : str
        Receive clock domain; its clock must be driven from ``rx_clk`` (the MAC does this).
    tx_domain : str
        Transmit clock domain: 125 MHz at every speed.

    Attributes
    ----------
    pins : Out(RGMIIPins)
        Only without ``pads``.
    rx_clk : Out(1)
        The receive clock from the pin, to drive ``rx_domain``'s clock.
    rx_speed : In(2)
        EMMC.speed in ``rx_domain``.
    tx_speed : In(2)
        EMMC.speed in ``tx_domain``.
    rx : Out(RxByteSignature)
    tx : In(TxByteSignature)
    """

    def __init__(self, pads=None, *, rx_domain: str = "eth_rx", tx_domain: str = "eth_tx"):
        self._pads = rgmii_pad_names(pads) if pads is not None else None
        self._rx_domain = rx_domain
        self._tx_domain = tx_domain
        members = {"rx_clk": Out(1), "rx_speed": In(2), "tx_speed": In(2),
                   "rx": Out(RxByteSignature()), "tx": In(TxByteSignature())}
        if pads is None:
            members["pins"] = Out(RGMIIPins())
        super().__init__(members)

    def _buffers(self, m, platform):
        """DDR buffers of the data/control pins and the receive clock signal."""
        rxd_d, txd_d = self._rx_domain, self._tx_domain
        if self._pads is None:
            bufs = {
                "rxd": BehaviouralDDRInput(4, rxd_d), "rx_ctl": BehaviouralDDRInput(1, rxd_d),
                "txd": BehaviouralDDROutput(4, txd_d), "tx_ctl": BehaviouralDDROutput(1, txd_d),
                "tx_clk": BehaviouralDDROutput(1, txd_d),
            }
            for name, buf in bufs.items():
                m.submodules[f"{name}_ddr"] = buf
                pin = getattr(self.pins, name)
                m.d.comb += (buf.port.eq(pin) if name.startswith("rx") else pin.eq(buf.port))
            return bufs, self.pins.rx_clk
        p = self._pads
        m.submodules.rx_clk_buf = clk_buf = io.Buffer("i", p["rx_clk"])
        if platform is not None:
            platform.add_clock_constraint(clk_buf.i, 125e6)
        bufs = {
            "rxd": io.DDRBuffer("i", p["rxd"], i_domain=rxd_d),
            "rx_ctl": io.DDRBuffer("i", p["rx_ctl"], i_domain=rxd_d),
            "txd": io.DDRBuffer("o", p["txd"], o_domain=txd_d),
            "tx_ctl": io.DDRBuffer("o", p["tx_ctl"], o_domain=txd_d),
            "tx_clk": io.DDRBuffer("o", p["tx_clk"], o_domain=txd_d),
        }
        for name, buf in bufs.items():
            m.submodules[f"{name}_ddr"] = buf
        return bufs, clk_buf.i

    def elaborate(self, platform):
        m = Module()
        bufs, rx_clk = self._buffers(m, platform)
        m.d.comb += self.rx_clk.eq(rx_clk)
        rxd, rx_ctl = bufs["rxd"].i, bufs["rx_ctl"].i
        txd, tx_ctl, tx_clk = bufs["txd"].o, bufs["tx_ctl"].o, bufs["tx_clk"].o

        # -- receive ------------------------------------------------------------------------
        rx = m.d[self._rx_domain]
        rx_dv = rx_ctl[0]
        rx_er = rx_ctl[0] ^ rx_ctl[1]
        gig_rx = self.rx_speed[1]
        m.submodules.mii_rx = mii_rx = MIIReceiver(domain=self._rx_domain)  # 10/100: nibbles
        m.d.comb += [mii_rx.rxd.eq(rxd[0]), mii_rx.rx_dv.eq(rx_dv), mii_rx.rx_er.eq(rx_er)]
        # The byte interface comes from flip-flops at every speed (the speed multiplexer is in
        # front of them, not in front of the receive engine): 1 Gb/s, a byte a clock from the
        # DDR inputs; 10/100, the MII receiver's bytes one clock later.
        rx += [
            self.rx.ce.eq(Mux(gig_rx, 1, mii_rx.rx.ce)),
            self.rx.dv.eq(Mux(gig_rx, rx_dv, mii_rx.rx.dv)),
            self.rx.er.eq(Mux(gig_rx, rx_er, mii_rx.rx.er)),
            self.rx.data.eq(Mux(gig_rx, Cat(rxd[0], rxd[1]), mii_rx.rx.data)),
        ]

        # -- transmit -----------------------------------------------------------------------
        tx = m.d[self._tx_domain]
        gig_tx = self.tx_speed[1]
        ten = self.tx_speed == SPEED_10
        # 10/100: ``phase`` counts the 125 MHz cycles of one tx_clk period (5 or 50); ``high``
        # selects the nibble (low nibble first). ``ce`` asks the engine for the next byte at
        # the end of the high nibble's period.
        phase = Signal(range(50))
        high = Signal()
        period_end = phase == Mux(ten, 49, 4)
        with m.If(period_end):
            tx += [phase.eq(0), high.eq(~high)]
        with m.Else():
            tx += phase.eq(phase + 1)
        clk_hi = Signal(2)                  # tx_clk in the two half-cycles of this cycle
        with m.If(gig_tx):
            m.d.comb += [self.tx.ce.eq(1), clk_hi.eq(0b01),
                         txd[0].eq(self.tx.data[:4]), txd[1].eq(self.tx.data[4:])]
        with m.Else():
            # Half-cycles 0..N-1 of the 2N in a period are high: 25 MHz 2.5 cycles, 2.5 MHz 25.
            nib = Mux(high, self.tx.data[4:], self.tx.data[:4])
            m.d.comb += [self.tx.ce.eq(period_end & high),
                         clk_hi[0].eq(Mux(ten, phase < 25, phase < 3)),
                         clk_hi[1].eq(Mux(ten, phase < 25, phase < 2)),
                         txd[0].eq(nib), txd[1].eq(nib)]
        en, er = self.tx.en, self.tx.er
        for k in range(2):
            m.d.comb += [tx_clk[k].eq(clk_hi[k]), tx_ctl[k].eq(Mux(clk_hi[k], en, en ^ er))]
        return m
