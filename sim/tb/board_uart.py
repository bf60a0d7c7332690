"""A serial port on the UART pins of a design in ``amaranth.sim``: the port object that
:class:`atsoc.boards.host.SerialMmio` takes, so a board simulation runs the host-side code a
user runs against a real board (``SerialMmio("/dev/ttyUSB1")``).

8N1 at ``divisor`` clock cycles per bit, as :class:`atsoc.hdl.bus.uart.UARTRx`/``UARTTx``
expect. ``write`` drives the design's receive pin bit by bit; a background process
(:meth:`SimSerialPort.receiver`) decodes the design's transmit pin into a buffer that ``read``
takes from, with a timeout like pyserial's.
"""

from __future__ import annotations


__all__ = ["SimSerialPort"]


class SimSerialPort:
    """Host end of a simulated UART.

    Parameters
    ----------
    rx_pin : Signal
        The design's receive pin (driven here; idle high).
    tx_pin : Signal
        The design's transmit pin (decoded here).
    divisor : int
        Clock cycles per bit.
    timeout_bytes : int
        ``read`` gives up (returning what it has, like pyserial on a timeout) after this many
        byte times without the requested bytes.

    Usage::

        port = SimSerialPort(dut.uart_rx, dut.uart_tx, divisor)
        sim.add_testbench(port.receiver, background=True)
        async def tb(ctx):
            port.attach(ctx)
            mmio = SerialMmio(port)
            await mmio.read(0x8000_0000)
    """

    def __init__(self, rx_pin, tx_pin, divisor: int, *, timeout_bytes: int = 256):
        self.rx_pin, self.tx_pin, self.divisor = rx_pin, tx_pin, divisor
        self.timeout_cycles = timeout_bytes * 10 * divisor
        self.received = bytearray()
        self.framing_errors = 0
        self._ctx = None

    def attach(self, ctx) -> None:
        """Use ``ctx`` (the testbench that calls ``read``/``write``) to drive and wait."""
        self._ctx = ctx
        ctx.set(self.rx_pin, 1)

    async def _ticks(self, ctx, n: int) -> None:
        # Plain awaits: a background process must not stay suspended inside ``repeat``, whose
        # async generator cannot be closed when the simulation ends.
        for _ in range(n):
            await ctx.tick()

    async def receiver(self, ctx) -> None:
        """Background testbench: decode bytes from ``tx_pin`` into :attr:`received`."""
        d = self.divisor
        while True:
            if ctx.get(self.tx_pin):
                await ctx.negedge(self.tx_pin)          # the start bit
            await self._ticks(ctx, d // 2)
            value = 0
            for i in range(8):
                await self._ticks(ctx, d)
                value |= ctx.get(self.tx_pin) << i
            await self._ticks(ctx, d)
            if ctx.get(self.tx_pin) != 1:
                self.framing_errors += 1
            self.received.append(value)

    async def write(self, data: bytes) -> int:
        """Send ``data`` back to back (8N1)."""
        ctx, d = self._ctx, self.divisor
        for byte in data:
            for bit in (0, *((byte >> i) & 1 for i in range(8)), 1):
                ctx.set(self.rx_pin, bit)
                await ctx.tick().repeat(d)
        return len(data)

    async def read(self, n: int) -> bytes:
        """Up to ``n`` received bytes: all ``n``, or what arrived before the timeout."""
        ctx = self._ctx
        waited = 0
        while len(self.received) < n and waited < self.timeout_cycles:
            await ctx.tick()
            waited += 1
        out = bytes(self.received[:n])
        del self.received[:n]
        return out

    def close(self) -> None:
        pass
