"""Host side of the UART bridge protocol (hdl/bus/uart_axil.py, docs/boards.md).

:func:`encode_read` / :func:`encode_write` build request bytes, :func:`response_length` and
:func:`decode_response` read the answer. :class:`SerialMmio` binds the reference driver's
``Mmio`` protocol (sim/driver/mmio.py) to a board over pyserial (``pip install pyserial``; only
needed on the host that talks to a board, imported lazily).
"""

from __future__ import annotations

import inspect
import struct

from ..hdl.bus.uart_axil import NAK, PING_REPLY, STATUS_BASE, Command


__all__ = ["ProtocolError", "IRQ_EIP_SHIFT", "IRQ_NOTIFY_SHIFT", "IRQ_FIELD_BITS",
           "encode_ping", "encode_irq", "encode_read", "encode_write", "response_length",
           "decode_response", "SerialMmio"]

#: The boards' IRQ word (the bridge's ``irq`` input, boards/top.py): PLIC ``eip`` in bits
#: 31:0 (context c at bit c), ATSINTC ``notify`` in bits 63:32 (hart h at bit 32 + h); lines
#: beyond the 32nd of either are not reported.
IRQ_EIP_SHIFT, IRQ_NOTIFY_SHIFT, IRQ_FIELD_BITS = 0, 32, 32


class ProtocolError(Exception):
    """The bridge answered something that is not a valid response (or NAK)."""


def encode_ping() -> bytes:
    """PING request."""
    return bytes([Command.PING])


def encode_irq() -> bytes:
    """IRQ request: the bridge's ``irq`` input (the boards: ``eip`` and ``notify``)."""
    return bytes([Command.IRQ])


def encode_read(addr: int, width: int = 32) -> bytes:
    """RD32/RD64 request for ``addr`` (a 32-bit bus address)."""
    if width not in (32, 64):
        raise ValueError(f"width must be 32 or 64, not {width}")
    return bytes([Command.RD32 if width == 32 else Command.RD64]) + struct.pack("<I", addr)


def encode_write(addr: int, value: int, width: int = 32, strobe: int | None = None) -> bytes:
    """WR32/WR64 request: ``value`` at ``addr`` with byte ``strobe`` (all lanes by default)."""
    if width not in (32, 64):
        raise ValueError(f"width must be 32 or 64, not {width}")
    n = width // 8
    if strobe is None:
        strobe = (1 << n) - 1
    if not 0 <= strobe < (1 << n):
        raise ValueError(f"strobe {strobe:#x} has more than {n} bits")
    return (bytes([Command.WR32 if width == 32 else Command.WR64]) + struct.pack("<I", addr)
            + bytes([strobe]) + value.to_bytes(n, "little"))


def response_length(request: bytes) -> int:
    """Bytes the bridge sends back for ``request`` when it accepts the command."""
    return {Command.PING: 2, Command.RD32: 5, Command.WR32: 1, Command.RD64: 9,
            Command.WR64: 1, Command.IRQ: 9}.get(request[0], 1)


def decode_response(request: bytes, response: bytes) -> tuple[int, int | None]:
    """``(resp, data)`` of a response: the AXI response code and the read data (None for writes).

    For a PING, ``(0, data width in bytes)``.

    Raises
    ------
    ProtocolError
        NAK (the bridge does not support the command), or a malformed response.
    """
    if response[:1] == bytes([NAK]) and request[0] != Command.PING:
        raise ProtocolError(f"command {request[0]:#04x} refused (NAK)")
    if len(response) != response_length(request):
        raise ProtocolError(f"expected {response_length(request)} bytes, got {response.hex()}")
    if request[0] == Command.PING:
        if response[0] != PING_REPLY:
            raise ProtocolError(f"bad PING reply {response.hex()}")
        return 0, response[1]
    status = response[0]
    if status & 0xFC != STATUS_BASE:
        raise ProtocolError(f"bad status byte {status:#04x}")
    data = int.from_bytes(response[1:], "little") if len(response) > 1 else None
    return status & 3, data


async def _maybe_await(value):
    """``value``, awaited when it is awaitable (a simulated port's ``read``/``write``)."""
    return await value if inspect.isawaitable(value) else value


class SerialMmio:
    """The reference driver's ``Mmio`` over a board's UART bridge.

    Parameters
    ----------
    port : str or object
        Serial device (``/dev/ttyUSB1`` ...), or an open port-like object with ``write(bytes)``
        and ``read(n) -> bytes`` (at most ``n`` bytes; fewer on a timeout): a
        ``serial.Serial``, or a simulated port whose ``write``/``read`` are coroutines (for
        example :class:`atsoc.sim.tb.board_uart.SimSerialPort`, the UART pins of a simulated
        board).
    baud : int
        Must match the board build (``atsoc build --baud``, 115200 by default).
    timeout_s : float
        Read timeout per response (a device path only; a port object has its own).
    irq_polls : int
        How many IRQ polls :meth:`wait_irq` / :meth:`wait_notify` make before giving up
        (about 0.9 ms each at 115200 baud).

    Notes
    -----
    With a synchronous port the constructor PINGs the bridge (and learns its bus width,
    ``bus_bytes``); with a simulated one the first access does (or ``await mmio.ping()``).
    ``wait_irq`` polls the bridge's IRQ command (the lines as the board's IRQ word lays them
    out: :data:`IRQ_EIP_SHIFT`, :data:`IRQ_NOTIFY_SHIFT`) until the PLIC context's ``eip`` is
    high; :meth:`wait_notify` does the same for an ATSINTC hart's ``notify``.
    """

    def __init__(self, port, baud: int = 115200, timeout_s: float = 1.0, irq_polls: int = 10_000):
        self.irq_polls = irq_polls
        if isinstance(port, str):
            import serial   # pyserial, host only
            port = serial.Serial(port, baud, timeout=timeout_s)
        self._ser = port
        self.bus_bytes = None
        if not inspect.iscoroutinefunction(getattr(port, "read", None)):
            # A synchronous port: nothing here awaits anything real, so run the PING now.
            coro = self.ping()
            try:
                coro.send(None)
            except StopIteration:
                pass
            else:   # pragma: no cover - a port that returned an awaitable after all
                coro.close()
                raise TypeError("port.read returned an awaitable: make it a coroutine function")

    async def ping(self) -> int:
        """PING the bridge; its bus width in bytes (also kept as ``bus_bytes``)."""
        self.bus_bytes = (await self._transact(encode_ping()))[1]
        return self.bus_bytes

    async def _transact(self, request: bytes):
        await _maybe_await(self._ser.write(request))
        n = response_length(request)
        response = bytes(await _maybe_await(self._ser.read(n)))
        if len(response) == 1 and response[0] == NAK:
            return decode_response(request, response)
        if len(response) != n:
            raise ProtocolError(f"timeout: {len(response)} of {n} response bytes")
        return decode_response(request, response)

    async def _access(self, request: bytes, addr: int) -> int | None:
        from ..sim.driver.mmio import BusError
        if self.bus_bytes is None:
            await self.ping()
        resp, data = await self._transact(request)
        if resp >= 2:
            raise BusError(addr, resp)
        return data

    async def read(self, addr: int, width: int = 32) -> int:
        if width == 64:
            return await self._access(encode_read(addr, 64), addr)
        word = await self._access(encode_read(addr & ~3, 32), addr)
        return (word >> ((addr & 3) * 8)) & ((1 << width) - 1)

    async def write(self, addr: int, value: int, width: int = 32) -> None:
        if width == 64:
            await self._access(encode_write(addr, value, 64), addr)
            return
        lanes = ((1 << (width // 8)) - 1) << (addr & 3)
        await self._access(encode_write(addr & ~3, value << ((addr & 3) * 8), 32, lanes), addr)

    async def irq_word(self) -> int:
        """The bridge's ``irq`` input (IRQ command); NAK -> :class:`ProtocolError`."""
        if self.bus_bytes is None:
            await self.ping()
        return (await self._transact(encode_irq()))[1]

    async def irq_lines(self) -> tuple[int, int]:
        """``(eip, notify)``: the PLIC contexts' and ATSINTC harts' lines (bit per line)."""
        word = await self.irq_word()
        mask = (1 << IRQ_FIELD_BITS) - 1
        return (word >> IRQ_EIP_SHIFT) & mask, (word >> IRQ_NOTIFY_SHIFT) & mask

    async def _wait_bit(self, bit: int, what: str) -> None:
        for _ in range(self.irq_polls):
            if (await self.irq_word()) >> bit & 1:
                return
        raise TimeoutError(f"{what} still low after {self.irq_polls} IRQ polls")

    async def wait_irq(self, line: int) -> None:
        """Wait until PLIC context ``line``'s ``eip`` is high (``Mmio.wait_irq``)."""
        if not 0 <= line < IRQ_FIELD_BITS:
            raise ValueError(f"eip line must be 0..{IRQ_FIELD_BITS - 1}, not {line}")
        await self._wait_bit(IRQ_EIP_SHIFT + line, f"eip[{line}]")

    async def wait_notify(self, hart: int) -> None:
        """Wait until ATSINTC ``notify[hart]`` is high."""
        if not 0 <= hart < IRQ_FIELD_BITS:
            raise ValueError(f"notify line must be 0..{IRQ_FIELD_BITS - 1}, not {hart}")
        await self._wait_bit(IRQ_NOTIFY_SHIFT + hart, f"notify[{hart}]")

    def close(self) -> None:
        self._ser.close()
