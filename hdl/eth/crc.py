"""Ethernet CRC-32 (IEEE 802.3 clause 3.2.9) as XOR equations computed in Python at elaboration.

The FCS is the reflected CRC-32 (polynomial 0x04C11DB7, processed LSB first, i.e. the reflected
constant 0xEDB88320), register preset to all ones and complemented on transmission. The update
of the register by one data word is linear over GF(2) in (register, data): we run the bit-serial
LFSR in Python on every unit vector and keep, for each output bit, the set of input bits that it
XORs. The RTL is then one XOR tree per register bit, never an unrolled LFSR in Verilog.
"""

from __future__ import annotations

import functools
import zlib

from amaranth.hdl import Cat, Const, Value


__all__ = ["POLY_REFLECTED", "crc32_step", "crc32_equations", "crc32_next", "RESIDUE", "fcs_bytes"]

POLY_REFLECTED = 0xEDB88320


def crc32_step(crc: int, data: int, width: int = 8) -> int:
    """Bit-serial reference: the register after shifting in ``width`` data bits, LSB first."""
    for i in range(width):
        bit = (crc ^ (data >> i)) & 1
        crc = (crc >> 1) ^ (POLY_REFLECTED if bit else 0)
    return crc


@functools.lru_cache(maxsize=None)
def crc32_equations(width: int = 8) -> tuple[tuple[int, int], ...]:
    """For each of the 32 register bits after one step: (mask of register bits, mask of data bits)."""
    out_crc = [0] * 32
    out_data = [0] * 32
    for i in range(32):                                  # register unit vectors
        r = crc32_step(1 << i, 0, width)
        for o in range(32):
            if r >> o & 1:
                out_crc[o] |= 1 << i
    for i in range(width):                               # data unit vectors
        r = crc32_step(0, 1 << i, width)
        for o in range(32):
            if r >> o & 1:
                out_data[o] |= 1 << i
    return tuple(zip(out_crc, out_data))


def crc32_next(crc: Value, data: Value) -> Value:
    """Amaranth expression of the register after one step with ``data`` (``len(data)`` bits)."""
    bits = []
    for cmask, dmask in crc32_equations(len(data)):
        terms = [crc[i] for i in range(32) if cmask >> i & 1]
        terms += [data[i] for i in range(len(data)) if dmask >> i & 1]
        acc = Const(0, 1)
        for t in terms:
            acc = acc ^ t
        bits.append(acc)
    return Cat(*bits)


def _residue() -> int:
    payload = bytes(range(60))
    crc = 0xFFFFFFFF
    for b in payload + fcs_bytes(payload):
        crc = crc32_step(crc, b)
    return crc


def fcs_bytes(payload: bytes) -> bytes:
    """The 4 FCS bytes of ``payload`` in transmission order (zlib's CRC-32, little endian)."""
    return zlib.crc32(payload).to_bytes(4, "little")


#: Register value after a frame and its correct FCS have been shifted in (0xDEBB20E3).
RESIDUE = _residue()
assert RESIDUE == 0xDEBB20E3
