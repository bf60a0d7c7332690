"""A UART (8 data bits, no parity, 1 stop bit) as byte streams.

:class:`UARTTx` sends the bytes of a ``lib.stream`` input; :class:`UARTRx` delivers received bytes
on a ``lib.stream`` output. The bit time is ``divisor`` clock cycles (``clk_hz / baud``, rounded:
at 125 MHz, 115200 baud is 1085 cycles, an error of 0.004 %; 3 Mbaud is 42, -0.8 %). The receiver
synchronises its pin with two flip-flops, finds the middle of the start bit half a bit after its
falling edge, samples every ``divisor`` cycles from there, and checks the stop bit: a byte whose
stop bit is low (framing error) is dropped and ``framing_error`` pulses; a byte that arrives while
the previous one has not been taken is dropped and ``overrun`` pulses (no silent loss: both are
outputs a top can count or show).
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out


__all__ = ["uart_divisor", "UARTTx", "UARTRx"]


def uart_divisor(clk_hz: float, baud: float, *, max_error: float = 0.02) -> int:
    """Clock cycles per bit for ``baud`` at ``clk_hz``.

    Raises
    ------
    ValueError
        If the divisor is below 4 or the rate error exceeds ``max_error`` (2 % by default; a
        10-bit frame tolerates about 5 % between both ends).
    """
    div = round(clk_hz / baud)
    if div < 4:
        raise ValueError(f"{baud} baud needs at least 4 clock cycles per bit at {clk_hz} Hz")
    err = abs(clk_hz / div - baud) / baud
    if err > max_error:
        raise ValueError(f"{baud} baud at {clk_hz} Hz: divisor {div} is off by {err:.1%}")
    return div


def _check_divisor(divisor):
    if not isinstance(divisor, int) or divisor < 4:
        raise ValueError(f"divisor (clock cycles per bit) must be an integer >= 4, not {divisor!r}")


class UARTTx(wiring.Component):
    """UART transmitter.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit (>= 4).

    Attributes
    ----------
    data : In(stream.Signature(8))
        Bytes to send; ``ready`` while the transmitter is idle.
    tx : Out(1)
        The line (idle high).
    """

    def __init__(self, divisor: int):
        _check_divisor(divisor)
        self.divisor = divisor
        super().__init__({"data": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        shift = Signal(10, init=0x3FF)      # stop, data[7:0], start; LSB goes out first
        bits = Signal(range(11))
        timer = Signal(range(self.divisor))
        m.d.comb += [self.tx.eq(shift[0]), self.data.ready.eq(bits == 0)]
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [shift.eq(Cat(0, self.data.payload, 1)), bits.eq(10),
                         timer.eq(self.divisor - 1)]
        with m.Elif(bits != 0):
            with m.If(timer == 0):
                m.d.sync += [shift.eq(Cat(shift[1:], 1)), bits.eq(bits - 1),
                             timer.eq(self.divisor - 1)]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m


class UARTRx(wiring.Component):
    """UART receiver.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit (>= 4).

    Attributes
    ----------
    rx : In(1)
        The line (asynchronous; synchronised here).
    data : Out(stream.Signature(8))
        Received bytes; ``valid`` until taken.
    framing_error : Out(1)
        Pulses when a byte is dropped because its stop bit was low.
    overrun : Out(1)
        Pulses when a byte is dropped because the previous one was still waiting.
    """

    def __init__(self, divisor: int):
        _check_divisor(divisor)
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(stream.Signature(8)),
                          "framing_error": Out(1), "overrun": Out(1)})

    def elaborate(self, platform):
        m = Module()
        pin = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, pin, init=1)
        timer = Signal(range(self.divisor))
        bits = Signal(range(10))
        shift = Signal(9)                   # stop bit, data[7:0]
        m.d.sync += [self.framing_error.eq(0), self.overrun.eq(0)]
        with m.If(self.data.ready):
            m.d.sync += self.data.valid.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~pin):
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer == 0):
                    with m.If(pin):         # a glitch, not a start bit
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [timer.eq(self.divisor - 1), bits.eq(9)]
                        m.next = "DATA"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("DATA"):
                with m.If(timer == 0):
                    m.d.sync += [shift.eq(Cat(shift[1:], pin)), bits.eq(bits - 1),
                                 timer.eq(self.divisor - 1)]
                    with m.If(bits == 1):   # this sample is the stop bit
                        m.next = "DONE"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("DONE"):
                with m.If(~shift[8]):
                    m.d.sync += self.framing_error.eq(1)
                with m.Elif(self.data.valid & ~self.data.ready):
                    m.d.sync += self.overrun.eq(1)
                with m.Else():
                    m.d.sync += [self.data.payload.eq(shift[:8]), self.data.valid.eq(1)]
                # The stop bit was sampled in its middle: wait for the line to be high
                # (IDLE looks for the next falling edge).
                m.next = "IDLE"
        return m
