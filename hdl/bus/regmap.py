"""Declarative register maps: one description, from which everything else is generated.

A :class:`RegisterMap` lists :class:`Register` s (optionally arrays of them, with one or more
:class:`Dim` ensions) made of :class:`Field` s with an :class:`Access` kind, a reset value and
documentation. From that one description come:

* the RTL address decoder (:class:`RegisterDecoder`), and, for plain registers, the field storage
  (:class:`RegisterBank`, in :mod:`atsoc.hdl.bus.regbank`);
* the Python constants and address helpers used by the reference driver (:meth:`RegisterMap.python_module`);
* a C header (:meth:`RegisterMap.c_header`);
* the Markdown register reference in ``docs/`` (:meth:`RegisterMap.markdown`);
* the address decode used by the Python reference models (:meth:`RegisterMap.decode`).

Address decoding rules (checked when the map is built, so that a bad description fails early):

* every stride is a power of two and every register offset is a multiple of the data width in bytes;
* the index bits of each dimension (``log2(stride)`` up to ``log2(stride) + clog2(count)``) do not
  overlap the index bits of another dimension;
* no two register elements share an address.

With these rules an element is hit when the address, with its index bits and byte-lane bits masked
off, equals the register offset, and every index is below its count: one comparator per register.
When the offset has bits where an index lies (``0x008 + 8*p``), the decoder subtracts the offset
first and compares the rest with zero (:meth:`RegisterMap.arithmetic`).
The low ``log2(data_width / 8)`` address bits select byte lanes and are ignored by the decoder.
"""

from __future__ import annotations

import enum
import itertools
import textwrap
from dataclasses import dataclass, field as dc_field

from amaranth.hdl import Const, Module, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


__all__ = ["Access", "Field", "Dim", "Register", "RegisterMap", "RegisterDecoder", "RegisterMapError"]


class RegisterMapError(ValueError):
    """A register-map description violates one of the decoding rules."""


class Access(enum.Enum):
    """How software may access a field.

    ``R``: read-only, writes ignored. ``W``: write-only (an action), reads return 0.
    ``RW``: read/write storage. ``RW1C``: read, write 1 to clear (writing 0 has no effect).
    """

    R = "R"
    W = "W"
    RW = "RW"
    RW1C = "RW1C"

    @property
    def readable(self) -> bool:
        return self is not Access.W

    @property
    def writable(self) -> bool:
        return self is not Access.R


def _clog2(n: int) -> int:
    return max(0, (n - 1).bit_length())


@dataclass(frozen=True)
class Field:
    """A bit field of a register.

    Parameters
    ----------
    name : str
        Lower-case identifier, unique in its register.
    offset : int
        Position of the least significant bit.
    width : int
        Width in bits.
    access : Access
        Software access kind.
    reset : int
        Value after reset.
    doc : str
        One or two sentences for the register reference.
    """

    name: str
    offset: int
    width: int
    access: Access
    reset: int = 0
    doc: str = ""

    def __post_init__(self):
        if not self.name.isidentifier():
            raise RegisterMapError(f"field name {self.name!r} is not an identifier")
        if self.width < 1 or self.offset < 0:
            raise RegisterMapError(f"field {self.name!r}: bad offset/width {self.offset}/{self.width}")
        if not 0 <= self.reset < (1 << self.width):
            raise RegisterMapError(f"field {self.name!r}: reset {self.reset:#x} does not fit {self.width} bits")

    @property
    def mask(self) -> int:
        """Mask of the field in its register, already shifted."""
        return ((1 << self.width) - 1) << self.offset


@dataclass(frozen=True)
class Dim:
    """One dimension of a register array: element ``i`` is at ``offset + i * stride``.

    Parameters
    ----------
    name : str
        Name of the index (used in generated helpers, e.g. ``context``).
    count : int
        Number of elements.
    stride : int
        Distance between elements in bytes; a power of two.
    """

    name: str
    count: int
    stride: int

    def __post_init__(self):
        if self.count < 1:
            raise RegisterMapError(f"dimension {self.name!r}: count must be at least 1")
        if self.stride < 1 or self.stride & (self.stride - 1):
            raise RegisterMapError(f"dimension {self.name!r}: stride {self.stride:#x} is not a power of two")

    @property
    def shift(self) -> int:
        return self.stride.bit_length() - 1

    @property
    def index_bits(self) -> int:
        return _clog2(self.count)

    @property
    def index_mask(self) -> int:
        """Address bits that carry this dimension's index."""
        return ((1 << self.index_bits) - 1) << self.shift


@dataclass(frozen=True)
class Register:
    """A register, or an array of registers when ``dims`` is not empty.

    Parameters
    ----------
    name : str
        Lower-case identifier, unique in its map.
    offset : int
        Byte offset of element 0 from the base of the map.
    fields : tuple of Field
        The fields; bits not covered by a field are reserved (read 0, writes ignored).
    doc : str
        Description for the register reference.
    dims : tuple of Dim
        Array dimensions, outermost first.
    """

    name: str
    offset: int
    fields: tuple
    doc: str = ""
    dims: tuple = ()

    def __post_init__(self):
        if not self.name.isidentifier():
            raise RegisterMapError(f"register name {self.name!r} is not an identifier")
        object.__setattr__(self, "fields", tuple(self.fields))
        object.__setattr__(self, "dims", tuple(self.dims))
        used = 0
        names = set()
        for f in self.fields:
            if f.mask & used:
                raise RegisterMapError(f"register {self.name!r}: field {f.name!r} overlaps another field")
            if f.name in names:
                raise RegisterMapError(f"register {self.name!r}: duplicate field {f.name!r}")
            used |= f.mask
            names.add(f.name)

    @property
    def count(self) -> int:
        """Number of elements (1 for a plain register)."""
        n = 1
        for d in self.dims:
            n *= d.count
        return n

    @property
    def reset(self) -> int:
        """Reset value of the whole register."""
        return sum(f.reset << f.offset for f in self.fields)

    @property
    def access(self) -> str:
        """Summary access kind of the register, for the reference tables."""
        kinds = {f.access for f in self.fields}
        if len(kinds) == 1:
            return next(iter(kinds)).value
        return "/".join(sorted(k.value for k in kinds))

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"register {self.name!r} has no field {name!r}")

    def address(self, *indices: int) -> int:
        """Byte offset of one element; raises IndexError when an index is out of range."""
        if len(indices) != len(self.dims):
            raise TypeError(f"register {self.name!r} takes {len(self.dims)} indices, got {len(indices)}")
        addr = self.offset
        for i, d in zip(indices, self.dims):
            if not 0 <= i < d.count:
                raise IndexError(f"{self.name}: {d.name} {i} out of range 0..{d.count - 1}")
            addr += i * d.stride
        return addr

    def elements(self):
        """Iterate over ``(indices, address)`` of every element."""
        for idx in itertools.product(*(range(d.count) for d in self.dims)):
            yield idx, self.address(*idx)


class RegisterMap:
    """A block's register map: the single source of truth for its addresses and fields.

    Parameters
    ----------
    name : str
        Block name (``plic``), used as the prefix of generated C and Python names.
    registers : iterable of Register
        The registers.
    data_width : int
        Bus data width in bits (32 or 64); registers are this wide.
    size : int
        Size of the address window in bytes (a power of two); offsets must lie inside it.
    doc : str
        Introduction for the register reference.
    reserved_doc : str
        What an access to an address that hits no register does (documented behaviour).
    """

    def __init__(self, name, registers, *, data_width=32, size, doc="", reserved_doc=""):
        if data_width not in (32, 64):
            raise RegisterMapError("data_width must be 32 or 64")
        if size < 1 or size & (size - 1):
            raise RegisterMapError(f"size {size:#x} is not a power of two")
        self.name = name
        self.registers = tuple(registers)
        self.data_width = data_width
        self.size = size
        self.doc = doc
        self.reserved_doc = reserved_doc
        self._check()

    @property
    def addr_width(self) -> int:
        """Number of byte-address bits that the window spans."""
        return _clog2(self.size)

    @property
    def lane_bits(self) -> int:
        """Address bits that select a byte lane inside a bus word (ignored by the decoder)."""
        return _clog2(self.data_width // 8)

    def __getitem__(self, name: str) -> Register:
        for r in self.registers:
            if r.name == name:
                return r
        raise KeyError(f"{self.name} has no register {name!r}")

    def __iter__(self):
        return iter(self.registers)

    def fixed_mask(self, reg: Register) -> int:
        """Address bits compared against the register offset (all but index and lane bits)."""
        mask = (1 << self.addr_width) - 1
        mask &= ~((1 << self.lane_bits) - 1)
        for d in reg.dims:
            mask &= ~d.index_mask
        return mask

    def _check(self):
        names = set()
        seen = {}
        word = self.data_width // 8
        for reg in self.registers:
            if reg.name in names:
                raise RegisterMapError(f"{self.name}: duplicate register {reg.name!r}")
            names.add(reg.name)
            if reg.offset % word:
                raise RegisterMapError(f"{self.name}.{reg.name}: offset {reg.offset:#x} is not word aligned")
            for f in reg.fields:
                if f.offset + f.width > self.data_width:
                    raise RegisterMapError(f"{self.name}.{reg.name}.{f.name} exceeds the data width")
            used = 0
            for d in reg.dims:
                if d.stride < word:
                    raise RegisterMapError(f"{self.name}.{reg.name}: stride {d.stride:#x} below the word size")
                if d.index_mask & used:
                    raise RegisterMapError(
                        f"{self.name}.{reg.name}: index bits of {d.name!r} overlap another index")
                used |= d.index_mask
            last = reg.address(*(d.count - 1 for d in reg.dims))
            if last >= self.size:
                raise RegisterMapError(f"{self.name}.{reg.name}: element at {last:#x} is outside the window")
            for idx, addr in reg.elements():
                elem = f"{reg.name}{list(idx)}" if reg.dims else reg.name
                if addr in seen:
                    raise RegisterMapError(
                        f"{self.name}: {elem} shares address {addr:#x} with {seen[addr]}")
                seen[addr] = elem

    def arithmetic(self, reg: Register) -> bool:
        """Whether ``reg`` needs a subtracting decoder: its offset has bits where an index lies
        (for example ``0x008 + 8*p``). Other registers are decoded by masking and comparing."""
        return any(reg.offset & d.index_mask for d in reg.dims)

    def decode(self, addr: int):
        """Decode a byte offset the way the RTL decoder does.

        Returns
        -------
        (Register, tuple of int) or None
            The register and the element indices, or ``None`` for a reserved address.
        """
        addr &= (1 << self.addr_width) - 1
        for reg in self.registers:
            if self.arithmetic(reg):
                rel, expect = addr - reg.offset, 0
                if rel < 0:
                    continue
            else:
                rel, expect = addr, reg.offset
            if rel & self.fixed_mask(reg) != expect:
                continue
            idx = tuple((rel & d.index_mask) >> d.shift for d in reg.dims)
            if all(i < d.count for i, d in zip(idx, reg.dims)):
                return reg, idx
        return None

    # -- generated artefacts -------------------------------------------------------------------

    def _origin(self):
        return f"Generated by atsoc from the `{self.name}` register map; do not edit."

    def python_module(self, source: str = "") -> str:
        """Python source of a constants module for the reference driver.

        For a register ``foo`` it defines ``FOO`` (offset of element 0), ``FOO_COUNT``,
        ``FOO_STRIDE`` (a tuple, one stride per dimension) and ``foo(*indices)`` returning the
        byte offset of an element; for each field ``bar``: ``FOO_BAR_SHIFT``, ``FOO_BAR_WIDTH``,
        ``FOO_BAR_MASK`` (shifted) and ``FOO_BAR_RESET``.
        """
        out = [f'"""{self._origin()}', ""]
        if source:
            out.append(f"Source: {source}.")
        out += ["", textwrap.fill(self.doc, 96) if self.doc else "", '"""', "",
                f"NAME = {self.name!r}", f"DATA_WIDTH = {self.data_width}", f"SIZE = {self.size:#x}", ""]
        for reg in self.registers:
            up = reg.name.upper()
            out.append(f"# {reg.name}: {reg.doc.splitlines()[0] if reg.doc else ''}".rstrip())
            out.append(f"{up} = {reg.offset:#08x}")
            out.append(f"{up}_COUNT = {tuple(d.count for d in reg.dims)!r}")
            out.append(f"{up}_STRIDE = {tuple(d.stride for d in reg.dims)!r}")
            out.append(f"{up}_RESET = {reg.reset:#x}")
            args = ", ".join(d.name for d in reg.dims)
            expr = " + ".join([f"{reg.offset:#x}"] + [f"{d.name} * {d.stride:#x}" for d in reg.dims])
            out.append("")
            out.append(f"def {reg.name}({args}):")
            out.append(f'    """Byte offset of `{reg.name}`{"[" + args + "]" if args else ""}."""')
            out.append(f"    return {expr}")
            out.append("")
            for f in reg.fields:
                fu = f"{up}_{f.name.upper()}"
                out.append(f"{fu}_SHIFT = {f.offset}")
                out.append(f"{fu}_WIDTH = {f.width}")
                out.append(f"{fu}_MASK = {f.mask:#x}")
                out.append(f"{fu}_RESET = {f.reset:#x}")
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def c_header(self, source: str = "") -> str:
        """A C header with offsets, counts, strides, element-address macros and field masks."""
        p = self.name.upper()
        guard = f"ATSOC_{p}_REGS_H"
        suf = "ull" if self.data_width == 64 else "u"
        out = [f"/* {self._origin()}", f" * Source: {source}" if source else " *",
               " * Counts are those of the configuration the header was generated for. */",
               f"#ifndef {guard}", f"#define {guard}", "",
               f"#define {p}_DATA_WIDTH {self.data_width}u", f"#define {p}_SIZE {self.size:#x}u", ""]
        for reg in self.registers:
            up = f"{p}_{reg.name.upper()}"
            if reg.doc:
                out.append(f"/* {reg.name}: {reg.doc.splitlines()[0]} */")
            out.append(f"#define {up}_OFFSET {reg.offset:#x}u")
            for d in reg.dims:
                out.append(f"#define {up}_{d.name.upper()}_COUNT {d.count}u")
                out.append(f"#define {up}_{d.name.upper()}_STRIDE {d.stride:#x}u")
            args = ", ".join(d.name for d in reg.dims)
            expr = " + ".join([f"{up}_OFFSET"] + [f"(({d.name}) * {up}_{d.name.upper()}_STRIDE)"
                                                    for d in reg.dims])
            out.append(f"#define {up}({args}) ({expr})")
            out.append(f"#define {up}_RESET {reg.reset:#x}{suf}")
            for f in reg.fields:
                fu = f"{up}_{f.name.upper()}"
                out.append(f"#define {fu}_SHIFT {f.offset}u")
                out.append(f"#define {fu}_MASK {f.mask:#x}{suf}")
            out.append("")
        out.append(f"#endif /* {guard} */")
        return "\n".join(out) + "\n"

    def markdown(self, title: str | None = None, source: str = "") -> str:
        """The Markdown register reference."""
        width = (self.addr_width + 3) // 4
        out = [f"# {title or self.name.upper() + ' registers'}", "", f"<!-- {self._origin()} -->", ""]
        if self.doc:
            out += [self.doc, ""]
        out += [f"Data width {self.data_width} bits; window {self.size:#x} bytes.", ""]
        if source:
            out += [f"Source of truth: `{source}`.", ""]
        out += ["| offset | register | access | reset | description |", "|---|---|---|---|---|"]
        for reg in self.registers:
            off = f"`{reg.offset:#0{width + 2}x}`"
            if reg.dims:
                off += "".join(f" + {d.stride:#x}*{d.name}" for d in reg.dims)
                counts = ", ".join(f"{d.name} < {d.count}" for d in reg.dims)
                name = f"{reg.name}[{', '.join(d.name for d in reg.dims)}] ({counts})"
            else:
                name = reg.name
            desc = " ".join(reg.doc.split())
            out.append(f"| {off} | {name} | {reg.access} | `{reg.reset:#x}` | {desc} |")
        out += ["", f"Any other address: {self.reserved_doc or 'reserved.'}", ""]
        for reg in self.registers:
            out += [f"## {reg.name}", ""]
            if reg.doc:
                out += [" ".join(reg.doc.split()), ""]
            out += ["| bits | field | access | reset | description |", "|---|---|---|---|---|"]
            for f in sorted(reg.fields, key=lambda f: -f.offset):
                bits = f"{f.offset}" if f.width == 1 else f"{f.offset + f.width - 1}:{f.offset}"
                out.append(f"| {bits} | {f.name} | {f.access.value} | `{f.reset:#x}` | {' '.join(f.doc.split())} |")
            out.append("")
        return "\n".join(out)


class RegisterDecoder(wiring.Component):
    """Address decoder generated from a :class:`RegisterMap`.

    Combinational: for every register it raises ``hit.<name>`` when ``addr`` selects one of its
    elements, and drives ``index.<name>.<dim>`` with the element's indices (meaningful only on a
    hit). ``reserved`` is high when no register is hit.

    Parameters
    ----------
    regmap : RegisterMap
        The description.

    Attributes
    ----------
    addr : Signal(regmap.addr_width), in
        Byte offset inside the window.
    hit : struct of one bit per register, out
    index : struct per register of its index fields, out
    reserved : Signal(1), out
    """

    def __init__(self, regmap: RegisterMap):
        self._regmap = regmap
        from amaranth.lib import data
        hit_layout = data.StructLayout({r.name: 1 for r in regmap})
        index_layout = data.StructLayout({
            r.name: data.StructLayout({d.name: unsigned(max(1, d.index_bits)) for d in r.dims})
            for r in regmap if r.dims
        })
        members = {
            "addr": In(regmap.addr_width),
            "hit": Out(hit_layout),
            "reserved": Out(1),
        }
        if any(r.dims for r in regmap):
            members["index"] = Out(index_layout)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        rm = self._regmap
        hits = []
        for reg in rm:
            if rm.arithmetic(reg):
                rel = Signal(rm.addr_width + 1, name=f"{reg.name}_rel")
                m.d.comb += rel.eq(self.addr - reg.offset)
                cond = ~rel[-1] & ((rel[:rm.addr_width] & rm.fixed_mask(reg)) == 0)
            else:
                rel = self.addr
                cond = (self.addr & rm.fixed_mask(reg)) == reg.offset
            for d in reg.dims:
                idx = rel[d.shift:d.shift + d.index_bits] if d.index_bits else Const(0, 1)
                m.d.comb += self.index[reg.name][d.name].eq(idx)
                if d.count < (1 << d.index_bits):
                    cond &= idx < d.count
            m.d.comb += self.hit[reg.name].eq(cond)
            hits.append(self.hit[reg.name])
        any_hit = Const(0, 1)
        for h in hits:
            any_hit = any_hit | h
        m.d.comb += self.reserved.eq(~any_hit)
        return m
