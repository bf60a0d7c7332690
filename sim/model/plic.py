"""Cycle-accurate Python reference model of the PLIC.

The model follows the RISC-V PLIC specification v1.0.0 with the choices of the project's
``plic.md`` (cited below as "plic.md, <section>") and the cycle contract agreed with the RTL:

* every :meth:`PLICModel.step` is one clock edge; the value of a register "in cycle t" is its
  value between edge t-1 and edge t, and every next state is computed from cycle-t values;
* ``eip`` is a registered output: a source line rising in cycle t sets IP in cycle t+1 and EIP in
  cycle t+2 (plic.md, "Latency goal": at most 2 cycles);
* a read whose AR handshake is in cycle a is computed from cycle-a values and its R beat is in
  cycle a+2; a claim clears its IP bit at edge a+1 (visible from cycle a+2);
* a write whose handshake is in cycle w is applied at edge w (visible from cycle w+1).

The model never imports the RTL; it decodes addresses with the register-map description
(:func:`atsoc.hdl.plic.registers.plic_register_map`), the one source of truth for addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from atsoc.hdl.plic.config import PLICConfig, ReservedPolicy
from atsoc.hdl.plic.registers import plic_register_map


__all__ = ["PLICModel", "ReadResult"]

#: A write is applied only with all four byte lanes strobed (plic.md, "Register map").
FULL_STROBE = 0xF
WORD_MASK = 0xFFFF_FFFF
#: Cycles from the AR handshake to the R beat.
READ_LATENCY = 2


@dataclass(frozen=True)
class ReadResult:
    """Data and error flag of one read, and the cycle of its first R beat."""

    data: int
    slverr: bool
    cycle: int


class PLICModel:
    """The PLIC, one clock edge per :meth:`step`.

    Parameters
    ----------
    config : PLICConfig
        The same parameters the RTL is built with.

    Attributes
    ----------
    regmap : RegisterMap
        The register map the model decodes addresses with.
    size : int
        Size of the register window in bytes (64 MiB).
    cycle : int
        Clock edges since reset; the model is "in cycle ``cycle``".
    lines : int
        ``irq_sources`` value used by :meth:`step` when it is given no ``lines`` (and by the
        conveniences :meth:`read`, :meth:`write` and :meth:`idle`). Bit n is source n.
    eip : int
        Registered EIP output in the current cycle, bit c for context c.
    priority : list of int
        Priority of each source ID (index 0 is always 0).
    enable : list of int
        Enable bit vector of each context (bit n is source n).
    threshold : list of int
        Threshold of each context.
    ip : int
        Pending bits (bit n is source n).
    armed : int
        Gateways open to forward a request (bit n is source n).
    edge_count : dict of int to int
        Remembered edges of each edge-triggered source.
    last_write_slverr : bool
        Response of the last write handshake (``True`` for SLVERR).
    last_read_slverr : bool
        Response of the last read performed with :meth:`read`.
    """

    def __init__(self, config: PLICConfig = PLICConfig()):
        self.config = config
        self.regmap = plic_register_map(config)
        self.size = self.regmap.size
        #: Bits of real sources: 1..S (source 0 does not exist; plic.md, "Register map").
        self._source_mask = ((1 << config.ids) - 1) & ~1
        self._edge_mask = sum(1 << n for n in config.edge_sources)
        self._slverr_policy = config.reserved_policy == ReservedPolicy.SLVERR
        self.lines = 0
        self.reset()

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Return every register to its reset value (the RTL's synchronous reset)."""
        cfg = self.config
        self.cycle = 0
        self.priority = [0] * cfg.ids
        self.enable = [0] * cfg.contexts
        self.threshold = [0] * cfg.contexts
        self.ip = 0
        self.armed = self._source_mask
        self.prev_line = 0
        self.edge_count = {n: 0 for n in sorted(cfg.edge_sources)}
        self.eip = 0
        self.sync = [0, 0]
        self._claim_clear = 0          # IP bit cleared at the coming edge (claimed last cycle)
        self._read = None              # the read in flight or last returned, a ReadResult
        self.last_write_slverr = False
        self.last_read_slverr = False

    # -- one clock edge ------------------------------------------------------------------------

    def step(self, lines: int | None = None, *, write: tuple[int, int, int] | None = None,
             read: int | None = None) -> None:
        """Advance one clock edge.

        Parameters
        ----------
        lines : int, optional
            ``irq_sources`` in the current cycle; when omitted, :attr:`lines` is held. A given
            value becomes the new :attr:`lines`.
        write : (offset, data, wstrb), optional
            A write handshake (AW and W) in the current cycle.
        read : int, optional
            Offset of a read whose AR handshake is in the current cycle.

        Raises
        ------
        ValueError
            When a read and a write handshake are given together, or an access is given while a
            read is in flight: the bus takes one transaction at a time.
        """
        self._check_one_transaction(write, read)
        if lines is not None:
            self.lines = lines

        # Every value below is computed from cycle-t state; nothing is assigned until the edge.
        line = self.sync[1] if self.config.synchronizer else self.lines & self._source_mask
        fwd, armed_closed, prev_next, count_next = self._gateways(line)
        eip_next = self._eip()
        target, complete_vec, claim_clear_next = None, 0, 0
        if write is not None:
            offset, data, wstrb = write
            data &= WORD_MASK
            target = self._write_target(offset, wstrb)
            complete_vec = self._complete_vec(target, data)
        if read is not None:
            data_read, slverr, claim_clear_next = self._read_access(read)
            self._read = ReadResult(data_read, slverr, self.cycle + READ_LATENCY)

        # The edge. plic.md, "Gateways": one outstanding request per source; a completion
        # re-opens the gateway; a forward wins over a claim clear of the same source.
        self.armed = armed_closed | complete_vec
        self.ip = (self.ip & ~self._claim_clear) | fwd
        self.prev_line = prev_next
        self.edge_count = count_next
        self.eip = eip_next
        self._claim_clear = claim_clear_next
        if target is not None:
            self._apply_write(target, data)
        self.sync = [self.lines & self._source_mask, self.sync[0]]
        self.cycle += 1

    def read_result(self) -> tuple[int, bool] | None:
        """``(data, slverr)`` of the read whose R beat starts in the current cycle, else ``None``."""
        if self._read is not None and self._read.cycle == self.cycle:
            return self._read.data, self._read.slverr
        return None

    @property
    def held_read(self) -> ReadResult | None:
        """The last read whose R beat has started; its data stay on R until the next read."""
        if self._read is not None and self._read.cycle <= self.cycle:
            return self._read
        return None

    def _check_one_transaction(self, write, read) -> None:
        if write is not None and read is not None:
            raise ValueError("a read and a write handshake in the same cycle")
        if (write is not None or read is not None) and self._read is not None \
                and self._read.cycle > self.cycle:
            raise ValueError(f"access in cycle {self.cycle} while a read is in flight "
                             f"(R beat in cycle {self._read.cycle})")

    # -- gateways (plic.md, "Gateways") ----------------------------------------------------------

    def _gateways(self, line: int):
        """Requests forwarded this cycle and the gateways' next state.

        Returns
        -------
        (fwd, armed_closed, prev_next, count_next)
            ``armed_closed`` is ``armed`` with the forwarding gateways closed (before completions).
        """
        level = ~self._edge_mask
        fwd = line & self.armed & level
        limit = self.config.edge_count_limit
        rising = line & ~self.prev_line
        count_next = {}
        for n, count in self.edge_count.items():
            bit = 1 << n
            rose = 1 if rising & bit else 0
            if self.armed & bit:
                if count > 0:       # a remembered edge is forwarded once the gateway re-opens
                    fwd |= bit
                    count = min(count - 1 + rose, limit)
                elif rose:
                    fwd |= bit
            elif rose:              # edges while waiting for the completion are counted
                count = min(count + 1, limit)
            count_next[n] = count
        prev_next = line & self._edge_mask
        return fwd, self.armed & ~fwd, prev_next, count_next

    # -- notification and claim (plic.md, "Notification, claim, complete") ---------------------

    def _eip(self) -> int:
        """EIP of every context: a pending, enabled source with priority > threshold."""
        eip = 0
        for c in range(self.config.contexts):
            if any(self.priority[n] > self.threshold[c] for n in _bits(self.ip & self.enable[c])):
                eip |= 1 << c
        return eip

    def best_claim(self, context: int) -> int:
        """The ID a claim of ``context`` returns in the current cycle (no side effect).

        Highest priority among pending, enabled sources of non-zero priority, ties to the lowest
        ID, threshold ignored; 0 when none qualifies.
        """
        best, best_priority = 0, 0
        for n in _bits(self.ip & self.enable[context]):
            if self.priority[n] > best_priority:   # strict: the lowest ID wins a tie
                best, best_priority = n, self.priority[n]
        return best

    # -- bus accesses --------------------------------------------------------------------------

    def _decode(self, offset: int):
        """``(name, indices)`` of the register at ``offset``, or ``None`` when reserved."""
        hit = self.regmap.decode(offset)
        if hit is None:
            return None
        reg, idx = hit
        return reg.name, idx

    def _read_access(self, offset: int) -> tuple[int, bool, int]:
        """Read data, SLVERR flag and the IP bit to clear at the next edge."""
        hit = self._decode(offset)
        if hit is None:
            return 0, self._slverr_policy, 0
        name, idx = hit
        if name == "priority":
            return self.priority[idx[0]], False, 0
        if name == "pending":
            return _word(self.ip, idx[0]), False, 0
        if name == "enable":
            return _word(self.enable[idx[0]], idx[1]), False, 0
        if name == "threshold":
            return self.threshold[idx[0]], False, 0
        claimed = self.best_claim(idx[0])       # name == "claim"
        return claimed, False, (1 << claimed) & self._source_mask

    def _write_target(self, offset: int, wstrb: int):
        """``(name, indices)`` a write acts on, or ``None`` when it is ignored.

        Reserved addresses and narrow writes are ignored (plic.md, "Register map"); both answer
        SLVERR under ``reserved_policy="slverr"``. Sets :attr:`last_write_slverr`.
        """
        hit = self._decode(offset)
        partial = wstrb & FULL_STROBE != FULL_STROBE
        self.last_write_slverr = self._slverr_policy and (hit is None or partial)
        return None if partial else hit

    def _complete_vec(self, target, data: int) -> int:
        """The gateway a complete re-opens: the written ID if it is a valid source enabled for
        the context, in the current cycle (plic.md, "Notification, claim, complete")."""
        if target is None or target[0] != "claim":
            return 0
        context = target[1][0]
        if 1 <= data <= self.config.sources and self.enable[context] >> data & 1:
            return 1 << data
        return 0

    def _apply_write(self, target, data: int) -> None:
        """Update a configuration register at the edge (priority and threshold are WARL)."""
        name, idx = target
        P = self.config.max_priority
        if name == "priority" and idx[0] != 0:     # source 0 ignores writes
            self.priority[idx[0]] = data & P
        elif name == "threshold":
            self.threshold[idx[0]] = data & P
        elif name == "enable":                      # bit 0 and bits above source S stay 0
            c, w = idx
            kept = self.enable[c] & ~(WORD_MASK << 32 * w)
            self.enable[c] = (kept | data << 32 * w) & self._source_mask
        # pending is read-only; claim writes act through _complete_vec.

    # -- conveniences for the driver back-end (not cycle-exact with the RTL's bus) --------------

    def idle(self, cycles: int = 1) -> None:
        """Step ``cycles`` edges with no bus access and the current :attr:`lines`."""
        for _ in range(cycles):
            self.step()

    def read(self, offset: int) -> int:
        """Read a register: AR now, then step until the R beat. Sets :attr:`last_read_slverr`."""
        self.step(read=offset)
        while (result := self.read_result()) is None:
            self.step()
        data, self.last_read_slverr = result
        return data

    def write(self, offset: int, value: int, wstrb: int = FULL_STROBE) -> None:
        """Write a register in one cycle. Sets :attr:`last_write_slverr`."""
        self.step(write=(offset, value, wstrb))


def _bits(vector: int):
    """Indices of the set bits of ``vector``, lowest first."""
    while vector:
        low = vector & -vector
        yield low.bit_length() - 1
        vector ^= low


def _word(vector: int, word: int) -> int:
    return (vector >> (32 * word)) & WORD_MASK
