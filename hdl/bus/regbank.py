"""Field storage and access semantics for the plain registers of a :class:`~.regmap.RegisterMap`.

:class:`RegisterBank` is the RTL counterpart of the description's access kinds, in the style of
amaranth-soc's ``csr`` field actions: software reaches the fields through a
:class:`~.axi_lite.RegisterPortSignature` port (normally the ``reg`` port of an
:class:`~.axi_lite.AXI4LiteBridge`), hardware through one small interface per field.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .axi_lite import RegisterPortSignature
from .regmap import Access, Field, Register, RegisterMap, RegisterMapError


__all__ = ["RegisterBank", "field_signature"]


def field_signature(field: Field) -> wiring.Signature:
    """The hardware-side interface of one field, seen from the bank (``Out`` = driven by the bank).

    ============  ==========================================================================
    access        members
    ============  ==========================================================================
    ``RW``        ``data`` Out (storage, init = reset), ``w_stb`` Out
    ``R``         ``r_data`` In (driven by the hardware, init = reset)
    ``W``         ``w_data`` Out, ``w_stb`` Out
    ``RW1C``      ``set`` In (one bit per field bit), ``data`` Out (storage, init = reset)
    ============  ==========================================================================
    """
    w = field.width
    if field.access is Access.RW:
        return wiring.Signature({"data": Out(w, init=field.reset), "w_stb": Out(1)})
    if field.access is Access.R:
        return wiring.Signature({"r_data": In(w, init=field.reset)})
    if field.access is Access.W:
        return wiring.Signature({"w_data": Out(w), "w_stb": Out(1)})
    if field.access is Access.RW1C:
        return wiring.Signature({"set": In(w), "data": Out(w, init=field.reset)})
    raise TypeError(f"unknown access kind {field.access!r}")  # pragma: no cover


def _member_name(kind: str, name: str) -> str:
    if name.startswith("_") or name == "signature":
        raise RegisterMapError(f"{kind} name {name!r} cannot be an interface member name")
    return name


class RegisterBank(wiring.Component):
    """Storage and access semantics of the plain (non-array) registers of a register map.

    Software side
    -------------
    ``port`` is the target side of a :class:`~.axi_lite.RegisterPortSignature` and follows its
    timing contract:

    * **Write**: in the cycle ``port.w_stb`` is high, the register whose word address matches
      ``port.addr`` is written at the end of the cycle. Only the bytes whose ``w_strb`` bit is set
      are written; the byte-lane address bits are ignored.
    * **Read**: the word is sampled in the ``port.r_stb`` cycle (hardware values included) and
      appears on ``port.r_data`` ``read_latency`` cycles later, held until the next read has gone
      through the pipeline (so at least until the next ``r_stb``). Bits outside a field, and
      ``W`` fields, read 0.
    * **Reserved** addresses (no register of the bank is hit) read 0 and ignore writes. With
      ``reserved_error=True`` they also raise ``w_err`` (combinationally, in the ``w_stb`` cycle)
      and ``r_err`` (with ``r_data``), which the bridge turns into SLVERR.

    Hardware side
    -------------
    ``fields.<register>.<field>`` is one interface per field (see :func:`field_signature`):

    * ``RW``: ``data`` holds the value (reset from the description). ``w_stb`` pulses for one
      cycle after a software write that strobed at least one byte of the field: it is high in the
      first cycle in which ``data`` shows the written value.
    * ``R``: the hardware drives ``r_data``; software writes are ignored.
    * ``W``: an action (e.g. a doorbell). After a software write that strobed at least one byte
      of the field, ``w_stb`` pulses for one cycle with the written value on ``w_data`` (bytes
      whose strobe was clear are 0). ``w_data`` holds its value until the next such write.
    * ``RW1C``: ``data`` holds the value. At every clock edge ``data <= (data & ~clear) | set``,
      where ``clear`` is the set bits of the written value in strobed bytes during a software
      write. So a hardware ``set`` in the same cycle as a software clear of the same bit wins and
      the bit stays 1: an event arriving while software acknowledges the previous one is not
      lost. A ``set`` held high keeps the bit set.

    All field outputs are registered; nothing on the hardware side is combinational from the bus.

    Parameters
    ----------
    regmap : RegisterMap
        The description.
    registers : iterable of str, optional
        Names of the registers the bank implements; all of them must be plain. By default, every
        register of the map without dimensions.
    read_latency : int
        Cycles from ``r_stb`` to valid ``r_data`` (at least 1); the bridge's must be the same.
    reserved_error : bool
        Whether an access hitting no register of the bank raises ``w_err``/``r_err``.

    Attributes
    ----------
    port : In(RegisterPortSignature)
    fields : Out(Signature), one member per register, one per field in it
    registers : tuple of Register
        The registers implemented.

    Example
    -------
    A block whose map has array registers as well implements the plain ones with a bank and the
    arrays itself, sharing the bridge's port. The bank then sees the arrays as reserved, so it is
    built with ``reserved_error=False`` and the block derives the error from a
    :class:`~.regmap.RegisterDecoder`; the read data of the two are ORed, which works because
    the bank reads 0 for what it does not own::

        m.submodules.bridge = bridge = AXI4LiteBridge(addr_width=rm.addr_width, read_latency=1)
        m.submodules.bank = bank = RegisterBank(rm, read_latency=1)
        m.submodules.dec = dec = RegisterDecoder(rm)
        port = bridge.reg
        for name, member in port.signature.members.items():
            if member.flow == Out:                    # addresses, strobes, write data
                m.d.comb += getattr(bank.port, name).eq(getattr(port, name))
        m.d.comb += dec.addr.eq(port.addr)

        prio = Array(Signal(8, name=f"prio{i}") for i in range(rm["prio"].count))
        with m.If(port.w_stb & dec.hit.prio & port.w_strb[0]):
            m.d.sync += prio[dec.index.prio.n].eq(port.w_data[:8])
        arr_data, err = Signal(rm.data_width), Signal()
        with m.If(port.r_stb):          # held until the next r_stb, as the contract asks
            m.d.sync += [arr_data.eq(Mux(dec.hit.prio, prio[dec.index.prio.n], 0)),
                         err.eq(dec.reserved)]
        m.d.comb += [
            port.r_data.eq(bank.port.r_data | arr_data),
            port.r_err.eq(err),                       # or 0 for read-as-zero
            port.w_err.eq(port.w_stb & dec.reserved),
        ]

    (``tests/test_regmap.py`` runs this example.)
    """

    def __init__(self, regmap: RegisterMap, *, registers=None, read_latency: int = 1,
                 reserved_error: bool = False):
        if read_latency < 1:
            raise ValueError("read_latency must be at least 1")
        if registers is None:
            regs = tuple(r for r in regmap if not r.dims)
        else:
            regs = []
            for name in registers:
                reg = regmap[name]
                if reg.dims:
                    raise RegisterMapError(
                        f"{regmap.name}.{name} is an array; a RegisterBank implements plain registers only")
                if any(r.name == name for r in regs):
                    raise RegisterMapError(f"{regmap.name}.{name} is listed twice")
                regs.append(reg)
            regs = tuple(regs)
        self._regmap = regmap
        self._read_latency = read_latency
        self._reserved_error = bool(reserved_error)
        self.registers = regs

        fields = {}
        for reg in regs:
            fields[_member_name("register", reg.name)] = Out(wiring.Signature({
                _member_name("field", f.name): Out(field_signature(f)) for f in reg.fields
            }))
        super().__init__({
            "port": In(RegisterPortSignature(addr_width=regmap.addr_width, data_width=regmap.data_width)),
            "fields": Out(wiring.Signature(fields)),
        })

    @property
    def regmap(self) -> RegisterMap:
        return self._regmap

    @property
    def read_latency(self) -> int:
        return self._read_latency

    @property
    def reserved_error(self) -> bool:
        return self._reserved_error

    def elaborate(self, platform):
        m = Module()
        rm, port = self._regmap, self.port
        dw, lb = rm.data_width, rm.lane_bits

        # Decode the AW/AR addresses themselves (shorter paths than through the bridge's address
        # multiplexer).
        w_word = port.w_addr[lb:]
        r_word = port.r_addr[lb:]
        # Bit mask of the strobed bytes.
        wmask = Signal(dw)
        m.d.comb += wmask.eq(Cat(port.w_strb[i].replicate(8) for i in range(dw // 8)))

        values = {reg.name: self._read_value(m, reg) for reg in self.registers}
        r_hit = Signal()                                # the read hits a register of the bank
        read_word = Signal(dw)                          # the addressed register's read value
        with m.Switch(r_word):
            for reg in self.registers:
                with m.Case(reg.offset >> lb):
                    m.d.comb += [r_hit.eq(1), read_word.eq(values[reg.name])]

        w_hit = Signal()                                # the write hits a register of the bank
        sels = []
        for reg in self.registers:
            we = Signal(name=f"{reg.name}_we")
            sel = w_word == (reg.offset >> lb)
            sels.append(sel)
            m.d.comb += we.eq(port.w_stb & sel)
            for f in reg.fields:
                self._write_field(m, reg, f, we, wmask)
        m.d.comb += w_hit.eq(Cat(*sels).any() if sels else 0)

        # Read pipeline: stage 0 is combinational in the r_stb cycle; r_data loads from the last.
        valid, data, err = port.r_stb, read_word, ~r_hit if self._reserved_error else 0
        for k in range(1, self._read_latency):
            s_valid = Signal(name=f"rd{k}_valid")
            s_data = Signal(dw, name=f"rd{k}_data")
            s_err = Signal(name=f"rd{k}_err")
            m.d.sync += [s_valid.eq(valid), s_data.eq(data), s_err.eq(err)]
            valid, data, err = s_valid, s_data, s_err
        r_data, r_err = Signal(dw), Signal()
        with m.If(valid):
            m.d.sync += [r_data.eq(data), r_err.eq(err)]
        m.d.comb += [port.r_data.eq(r_data), port.r_err.eq(r_err)]

        if self._reserved_error:
            m.d.comb += port.w_err.eq(port.w_stb & ~w_hit)
        return m

    def _read_value(self, m, reg: Register):
        value = Signal(self._regmap.data_width, name=f"{reg.name}_rd")
        for f in reg.fields:
            iface = getattr(getattr(self.fields, reg.name), f.name)
            if f.access is Access.R:
                src = iface.r_data
            elif f.access in (Access.RW, Access.RW1C):
                src = iface.data
            else:
                continue                                # W: reads 0
            m.d.comb += value[f.offset:f.offset + f.width].eq(src)
        return value

    def _write_field(self, m, reg: Register, f: Field, we, wmask):
        iface = getattr(getattr(self.fields, reg.name), f.name)
        sl = slice(f.offset, f.offset + f.width)
        fmask = wmask[sl]                               # strobed bits of the field
        wdata = self.port.w_data[sl]
        if f.access is Access.RW:
            m.d.sync += iface.w_stb.eq(we & fmask.any())
            with m.If(we):
                m.d.sync += iface.data.eq((iface.data & ~fmask) | (wdata & fmask))
        elif f.access is Access.W:
            m.d.sync += iface.w_stb.eq(we & fmask.any())
            with m.If(we & fmask.any()):
                m.d.sync += iface.w_data.eq(wdata & fmask)
        elif f.access is Access.RW1C:
            clear = Signal(f.width, name=f"{reg.name}_{f.name}_clear")
            m.d.comb += clear.eq(wdata & fmask & we.replicate(f.width))
            m.d.sync += iface.data.eq((iface.data & ~clear) | iface.set)
        # R: software writes are ignored.
