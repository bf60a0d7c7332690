"""The PLIC reference model against plic.md's test plan, and the xv6 and Linux driver sequences
running on it through ModelMmio.

Cycle conventions (those of :mod:`atsoc.sim.model.plic`): ``m.step()`` is one clock edge; a write
handshake in cycle w is visible from w+1; a read's AR in cycle a gives its R beat in cycle a+2;
``m.read``/``m.write`` are conveniences that perform an access with the held ``m.lines``.
"""

import asyncio
import random

import pytest

from atsoc.hdl.plic.config import PLICConfig
from atsoc.sim.driver.mmio import BusError, Mmio, ModelMmio, Resp
from atsoc.sim.driver.plic import InterruptStorm, PlicDriver
from atsoc.sim.driver.regs import plic as R
from atsoc.sim.model.plic import PLICModel


FULL = 0xF


def bit(n: int) -> int:
    return 1 << n


def model(**kwargs) -> PLICModel:
    return PLICModel(PLICConfig(**kwargs))


def setup_source(m: PLICModel, source: int, priority: int = 1, contexts=(0,)) -> None:
    """Give ``source`` a priority and enable it (alone in its word) for ``contexts``."""
    m.write(R.priority(source), priority)
    for c in contexts:
        word = m.read(R.enable(c, source // 32))
        m.write(R.enable(c, source // 32), word | bit(source % 32))


def pending(m: PLICModel, source: int) -> bool:
    return bool(m.read(R.pending(source // 32)) >> (source % 32) & 1)


def claim(m: PLICModel, context: int = 0) -> int:
    return m.read(R.claim(context))


def complete(m: PLICModel, source: int, context: int = 0) -> None:
    m.write(R.claim(context), source)


def state(m: PLICModel):
    """Everything software-visible or gateway-internal, to show an access had no effect."""
    return (list(m.priority), list(m.enable), list(m.threshold), m.ip, m.armed,
            dict(m.edge_count))


def run(coro):
    return asyncio.run(coro)


# -- register map ---------------------------------------------------------------------------------

def test_reset_values():
    m = model()
    assert m.eip == 0
    for reg in m.regmap:
        for idx, addr in reg.elements():
            assert m.read(addr) == 0, f"{reg.name}{list(idx)}"
            assert not m.last_read_slverr


@pytest.mark.parametrize("priority_bits", [1, 3, 7])
def test_warl_priority_and_threshold(priority_bits):
    m = model(priority_bits=priority_bits)
    top = (1 << priority_bits) - 1
    for value in (0xFFFF_FFFF, 0x5A5A_5A5A, top + 1):
        m.write(R.priority(3), value)
        m.write(R.threshold(1), value)
        assert m.read(R.priority(3)) == value & top
        assert m.read(R.threshold(1)) == value & top
    for value in range(top + 1):                 # every P-bit value is legal
        m.write(R.priority(3), value)
        assert m.read(R.priority(3)) == value


def test_source_zero_and_bits_above_the_last_source():
    m = model(sources=40)
    m.write(R.priority(0), 7)
    assert m.read(R.priority(0)) == 0
    m.write(R.enable(0, 0), 0xFFFF_FFFF)
    m.write(R.enable(0, 1), 0xFFFF_FFFF)
    assert m.read(R.enable(0, 0)) == 0xFFFF_FFFE
    assert m.read(R.enable(0, 1)) == 0x1FF       # sources 32..40
    m.lines = bit(0)                               # irq_sources bit 0 is unused
    m.idle(4)
    assert m.read(R.pending(0)) == 0 and m.eip == 0


def test_pending_is_read_only_and_ignores_enables():
    m = model()
    m.write(R.priority(5), 1)                      # enabled nowhere
    m.lines = bit(5)
    m.idle(2)
    assert m.read(R.pending(0)) == bit(5)
    m.write(R.pending(0), 0)
    assert m.read(R.pending(0)) == bit(5)
    m.lines = 0
    m.write(R.pending(0), 0xFFFF_FFFF)
    assert m.read(R.pending(0)) == bit(5)
    assert m.eip == 0


def reserved_offsets(cfg: PLICConfig):
    return [
        R.priority(cfg.ids),                       # past the last source
        0x0FFC,                                    # end of the priority region
        R.pending(cfg.words), 0x1FFC,              # past the pending words
        R.enable(0, cfg.words), 0x2000 + 0x7C,     # past a context's enable words
        R.enable(cfg.contexts, 0),                 # enables of a context that does not exist
        0x1F_FFFC,                                 # end of the enable region
        0x20_0008, 0x20_0FFC,                      # after claim/complete of context 0
        R.threshold(cfg.contexts), R.claim(cfg.contexts),
        0x3FF_FFFC,                                # top of the 64 MiB window
    ]


@pytest.mark.parametrize("policy", ["raz_wi", "slverr"])
def test_reserved_regions_read_zero_and_ignore_writes(policy):
    cfg = PLICConfig(reserved_policy=policy)
    m = PLICModel(cfg)
    setup_source(m, 3, priority=2, contexts=(0, 1))
    m.lines = bit(3)
    m.idle(3)
    before = state(m)
    for offset in reserved_offsets(cfg):
        assert m.regmap.decode(offset) is None, hex(offset)
        m.write(offset, 0xFFFF_FFFF)
        assert m.last_write_slverr == (policy == "slverr")
        assert m.read(offset) == 0
        assert m.last_read_slverr == (policy == "slverr")
        assert state(m) == before, hex(offset)
    assert m.eip == 0b11


@pytest.mark.parametrize("policy", ["raz_wi", "slverr"])
def test_full_writes_to_read_only_registers_answer_okay(policy):
    m = model(reserved_policy=policy)
    for offset in (R.priority(0), R.pending(0)):
        m.write(offset, 0xFFFF_FFFF)
        assert not m.last_write_slverr
        assert m.read(offset) == 0


@pytest.mark.parametrize("contexts", [2, 3])
def test_out_of_range_contexts(contexts):
    m = model(contexts=contexts)
    setup_source(m, 3, contexts=range(contexts))
    m.lines = bit(3)
    m.idle(3)
    before = state(m)
    assert claim(m, contexts) == 0                 # no side effect: IP stays
    complete(m, 3, contexts)
    m.write(R.enable(contexts, 0), 0xFFFF_FFFF)
    m.write(R.threshold(contexts), 7)
    assert state(m) == before
    assert m.read(R.enable(contexts, 0)) == 0 and m.read(R.threshold(contexts)) == 0


@pytest.mark.parametrize("policy", ["raz_wi", "slverr"])
@pytest.mark.parametrize("wstrb", [0x0, 0x1, 0x3, 0x7, 0x8, 0xE])
def test_partial_writes_are_ignored(policy, wstrb):
    m = model(reserved_policy=policy)
    setup_source(m, 4)
    m.lines = bit(4)
    m.idle(3)
    assert claim(m) == 4                           # gateway now waits for a completion
    before = state(m)
    for offset in (R.priority(4), R.enable(0, 0), R.threshold(0), R.claim(0)):
        m.write(offset, 0xFFFF_FF04, wstrb=wstrb)
        assert m.last_write_slverr == (policy == "slverr")
    m.write(R.claim(0), 4, wstrb=wstrb)            # a narrow complete does not re-open
    m.idle(3)
    assert state(m) == before
    assert not pending(m, 4)


def test_address_bits_1_0_are_ignored():
    m = model()
    m.write(R.priority(2) | 1, 5)
    assert m.read(R.priority(2) | 3) == 5
    assert m.read(R.priority(2)) == 5


# -- gateways -------------------------------------------------------------------------------------

def test_level_line_held_gives_exactly_one_request():
    m = model()
    setup_source(m, 5)
    m.lines = bit(5)
    m.idle(3)
    assert pending(m, 5) and m.eip == 1
    assert claim(m) == 5
    for _ in range(5):                             # IP stays 0 until completion
        m.idle(3)
        assert not pending(m, 5)
        assert claim(m) == 0
    assert m.eip == 0


def test_completion_with_line_still_high_re_pends():
    m = model()
    setup_source(m, 5)
    m.lines = bit(5)
    m.idle(3)
    assert claim(m) == 5
    complete(m, 5)
    m.idle(2)
    assert pending(m, 5) and m.eip == 1
    assert claim(m) == 5


def test_line_drop_after_ip_keeps_ip():
    m = model()
    setup_source(m, 5)
    m.step(bit(5))
    m.step(0)
    m.idle(5)
    assert pending(m, 5) and m.eip == 1
    assert claim(m) == 5
    complete(m, 5)                                 # line low: nothing new
    m.idle(3)
    assert not pending(m, 5) and claim(m) == 0


def pulse(m: PLICModel, source: int) -> None:
    m.step(m.lines | bit(source))
    m.step(m.lines & ~bit(source))


def drain(m: PLICModel, source: int, context: int = 0) -> int:
    """Claim and complete ``source`` until it stops coming; the number of requests."""
    count = 0
    for _ in range(20):
        m.idle(2)
        got = claim(m, context)
        if got == 0:
            return count
        assert got == source
        count += 1
        complete(m, source, context)
    raise AssertionError("requests do not stop")


@pytest.mark.parametrize("limit, extra, expected", [(3, 1, 2), (3, 3, 4), (3, 6, 4), (0, 4, 1),
                                                    (1, 2, 2)])
def test_edge_gateway_counts_edges_up_to_the_limit(limit, extra, expected):
    m = model(edge_sources={4}, edge_count_limit=limit)
    setup_source(m, 4)
    for _ in range(1 + extra):
        pulse(m, 4)
    assert drain(m, 4) == expected


def test_edge_line_held_high_is_one_request():
    m = model(edge_sources={4})
    setup_source(m, 4)
    m.lines = bit(4)
    m.idle(3)
    assert drain(m, 4) == 1


def test_edges_while_claimed_are_counted():
    m = model(edge_sources={4})
    setup_source(m, 4)
    pulse(m, 4)
    m.idle(1)
    assert claim(m) == 4
    pulse(m, 4)
    pulse(m, 4)
    assert not pending(m, 4)                       # the gateway waits for the completion
    complete(m, 4)
    assert drain(m, 4) == 2


@pytest.mark.parametrize("edge", [False, True])
def test_set_and_complete_in_the_same_cycle(edge):
    """OpenTitan issue 351: a new request arriving with the completion is not lost."""
    m = model(edge_sources={4} if edge else ())
    setup_source(m, 4)
    pulse(m, 4)
    m.idle(1)
    assert claim(m) == 4
    m.step(bit(4), write=(R.claim(0), 4, FULL))    # rising line in the completion cycle
    if not edge:
        m.step(bit(4))                             # a level is seen once the gateway is open
    m.step(0)
    assert drain(m, 4) == 1


@pytest.mark.parametrize("edge", [False, True])
def test_set_and_claim_in_the_same_edge(edge):
    """A forward at the edge that applies a claim's clear wins: the new request stays pending."""
    m = model(edge_sources={6} if edge else ())
    setup_source(m, 6)
    pulse(m, 6)                                    # request 1: IP set, gateway closed
    complete(m, 6)                                 # re-open it without claiming (allowed)
    m.idle(2)
    assert pending(m, 6)
    m.step(0, read=R.claim(0))                     # AR in cycle a
    m.step(bit(6))                                 # line rises in a+1: forwarded at edge a+1
    assert m.read_result() == (6, False)
    m.lines = 0
    assert pending(m, 6)
    assert claim(m) == 6
    assert claim(m) == 0


def test_claim_clear_without_a_forward():
    m = model()
    setup_source(m, 6)
    pulse(m, 6)
    m.idle(1)
    m.step(read=R.claim(0))
    m.step()
    assert m.read_result() == (6, False)
    assert m.ip == 0                               # cleared at edge a+1, visible in a+2


@pytest.mark.parametrize("edge", [False, True])
def test_synchroniser_adds_two_cycles(edge):
    m = model(synchronizer=True, edge_sources={2} if edge else ())
    setup_source(m, 2)
    m.step(bit(2))
    for _ in range(3):
        assert m.eip == 0
        m.step()
    assert m.eip == 1


# -- arbitration ------------------------------------------------------------------------------------

def test_threshold_is_strictly_greater():
    m = model()
    setup_source(m, 3, priority=2)
    m.lines = bit(3)
    m.write(R.threshold(0), 2)
    m.idle(3)
    assert m.eip == 0
    m.write(R.threshold(0), 1)
    m.idle(2)
    assert m.eip == 1


def test_threshold_at_maximum_masks_everything_but_claims_still_work():
    """OpenTitan issue 363; polling with the threshold at the maximum."""
    m = model()
    for s in (1, 9, 30):
        setup_source(m, s, priority=7)
    m.write(R.threshold(0), 7)
    m.lines = bit(1) | bit(9) | bit(30)
    m.idle(4)
    assert m.eip == 0
    assert [claim(m) for _ in range(4)] == [1, 9, 30, 0]


def test_priority_order():
    m = model()
    for s, p in ((2, 1), (9, 5), (20, 3), (25, 0)):
        setup_source(m, s, priority=p)
    m.lines = bit(2) | bit(9) | bit(20) | bit(25)
    m.idle(3)
    assert [claim(m) for _ in range(4)] == [9, 20, 2, 0]   # priority 0 is never claimed
    assert pending(m, 25)


def test_ties_go_to_the_lowest_id_across_word_boundaries():
    m = model(sources=70)
    sources = [70, 64, 63, 33, 32, 31, 1]
    for s in sources:
        setup_source(m, s, priority=4)
    m.lines = sum(bit(s) for s in sources)
    m.idle(3)
    assert [claim(m) for _ in sources] == sorted(sources)


def test_top_source_of_the_largest_configuration():
    m = model(sources=1023)
    setup_source(m, 1023, priority=3)
    setup_source(m, 1022, priority=2)
    m.lines = bit(1023) | bit(1022)
    m.idle(3)
    assert m.read(R.pending(31)) == 0xC000_0000
    assert claim(m) == 1023                         # highest priority wins
    complete(m, 1023)                               # the largest ID is a valid completion
    m.write(R.priority(1023), 2)
    m.idle(2)
    assert claim(m) == 1022                         # tie: the lower ID
    assert claim(m) == 1023
    complete(m, 1024)                               # ID 1024 (> sources): ignored
    m.idle(2)
    assert claim(m) == 0


def test_one_source_in_two_contexts():
    m = model()
    setup_source(m, 7, contexts=(0, 1))
    m.lines = bit(7)
    m.idle(3)
    assert m.eip == 0b11
    assert claim(m, 1) == 7
    assert claim(m, 0) == 0
    m.idle(1)
    assert m.eip == 0


@pytest.mark.parametrize("offset, value, restore", [
    (R.priority(3), 0, 1),          # priority 0 never raises EIP
    (R.enable(0, 0), 0, bit(3)),
    (R.threshold(0), 1, 0),
])
def test_eip_follows_every_configuration_write(offset, value, restore):
    """RVVM issue 89: EIP follows each write, one cycle after it is applied."""
    m = model()
    setup_source(m, 3)
    m.lines = bit(3)
    m.idle(3)
    assert m.eip == 1
    m.write(offset, value)          # handshake in w: applied at edge w
    assert m.eip == 1               # cycle w+1: EIP still from cycle-w values
    m.step()
    assert m.eip == 0               # cycle w+2
    m.write(offset, restore)
    m.step()
    assert m.eip == 1


# -- claim / complete -------------------------------------------------------------------------------

def test_empty_claim_returns_zero_without_side_effect():
    m = model()
    setup_source(m, 8, priority=0)
    m.lines = bit(8)
    m.idle(3)
    before = state(m)
    assert claim(m) == 0
    assert state(m) == before


def test_complete_of_a_source_not_enabled_is_ignored_then_enable_and_complete():
    """Linux commits 69ea463021be and 9c92006b896c."""
    m = model()
    setup_source(m, 6)
    m.lines = bit(6)
    m.idle(3)
    assert claim(m) == 6
    m.write(R.enable(0, 0), 0)
    complete(m, 6)
    m.idle(3)
    assert not m.armed >> 6 & 1 and not pending(m, 6)   # the gateway stays closed
    m.write(R.enable(0, 0), bit(6))
    complete(m, 6)
    m.idle(2)
    assert pending(m, 6)


@pytest.mark.parametrize("value", [0, 32, 33, 0xFFFF_FFFF, (1 << 16) | 6, (1 << 31) | 6])
def test_invalid_completions_are_ignored(value):
    m = model()
    setup_source(m, 6)
    m.lines = bit(6)
    m.idle(3)
    assert claim(m) == 6
    before = state(m)
    complete(m, value)
    m.idle(3)
    assert state(m) == before


def test_complete_from_another_context_where_enabled():
    m = model()
    setup_source(m, 6, contexts=(0, 1))
    m.lines = bit(6)
    m.idle(3)
    assert claim(m, 0) == 6
    complete(m, 6, 1)
    m.idle(2)
    assert pending(m, 6)


# -- latency and the bus -----------------------------------------------------------------------------

def test_line_to_eip_is_two_cycles():
    m = model()
    setup_source(m, 3)
    m.step(bit(3))                  # line high in cycle t
    assert m.ip == bit(3) and m.eip == 0
    m.step()
    assert m.eip == 1               # cycle t+2


def test_claim_data_two_cycles_after_ar_and_eip_drop():
    m = model()
    setup_source(m, 3)
    m.step(bit(3))
    m.step(0)
    m.idle(1)
    m.step(read=R.claim(0))         # AR in cycle a
    assert m.read_result() is None
    assert m.eip == 1
    m.step()                        # cycle a+2: R beat
    assert m.read_result() == (3, False)
    assert m.eip == 1               # computed from cycle a+1, where IP was still set
    m.step()
    assert m.read_result() is None and m.held_read.data == 3
    assert m.eip == 0


def test_back_to_back_claims_never_return_the_same_id():
    m = model()
    for s in (4, 5):
        setup_source(m, s, contexts=(0, 1))
    m.lines = bit(4) | bit(5)
    m.idle(3)
    m.step(read=R.claim(0))
    with pytest.raises(ValueError):
        m.step(read=R.claim(1))     # nothing else on the bus in cycle a+1
    m.step()
    first = m.read_result()
    m.step(read=R.claim(1))         # a claim every 2 cycles
    m.step()
    second = m.read_result()
    assert (first, second) == ((4, False), (5, False))


def test_read_and_write_in_one_cycle_is_refused():
    m = model()
    with pytest.raises(ValueError):
        m.step(write=(R.priority(1), 1, FULL), read=R.priority(1))


def test_random_claims_never_repeat_an_outstanding_id():
    """Random lines, claims, completions and enables: an ID claimed and not yet completed is
    never claimed again (one outstanding request per source, level gateways)."""
    rng = random.Random(1)
    cfg = PLICConfig(sources=40, contexts=2)
    m = PLICModel(cfg)
    enables = [0, 0]
    for s in range(1, cfg.sources + 1):
        m.write(R.priority(s), rng.randrange(8))
    outstanding = set()
    for _ in range(2000):
        m.lines = rng.getrandbits(cfg.ids)
        action = rng.randrange(4)
        c = rng.randrange(2)
        if action == 0:
            word = rng.randrange(cfg.words)
            value = rng.getrandbits(32)
            m.write(R.enable(c, word), value)
            kept = enables[c] & ~(0xFFFF_FFFF << 32 * word)
            enables[c] = kept | m.read(R.enable(c, word)) << 32 * word
        elif action == 1:
            got = claim(m, c)
            assert got not in outstanding
            if got:
                assert enables[c] >> got & 1
                outstanding.add(got)
        elif action == 2 and outstanding:
            s = rng.choice(sorted(outstanding))
            complete(m, s, c)
            if enables[c] >> s & 1:
                outstanding.discard(s)
        else:
            m.idle(rng.randrange(1, 4))


# -- ModelMmio ----------------------------------------------------------------------------------------

BASE = PLICConfig().base


def bus(**kwargs):
    m = model(**kwargs)
    return m, ModelMmio(m, base=m.config.base)


def test_model_mmio_is_an_mmio_and_counts_cycles():
    m, mmio = bus()
    assert isinstance(mmio, Mmio)
    run(mmio.write(BASE + R.priority(1), 3))
    assert run(mmio.read(BASE + R.priority(1))) == 3
    assert mmio.cycles == 3                         # a write is 1 cycle, a read 2


def test_model_mmio_errors():
    m, mmio = bus(reserved_policy="slverr")
    with pytest.raises(BusError) as err:
        run(mmio.read(BASE + 0x20_0008))
    assert err.value.resp is Resp.SLVERR and err.value.addr == BASE + 0x20_0008
    with pytest.raises(BusError) as err:
        run(mmio.write(BASE + R.priority(1), 1, width=8))   # narrow write: ignored, SLVERR
    assert err.value.resp is Resp.SLVERR
    assert m.priority[1] == 0
    with pytest.raises(BusError) as err:
        run(mmio.read(BASE - 4))
    assert err.value.resp is Resp.DECERR
    with pytest.raises(ValueError):
        run(mmio.read(BASE + 2))


def test_model_mmio_narrow_accesses_under_raz_wi():
    m, mmio = bus()
    run(mmio.write(BASE + R.enable(0, 0), 0x1234_5678))
    assert run(mmio.read(BASE + R.enable(0, 0) + 1, width=8)) == 0x56
    assert run(mmio.read(BASE + R.enable(0, 0) + 2, width=16)) == 0x1234
    run(mmio.write(BASE + R.enable(0, 0), 0xFF, width=8))   # ignored, OKAY
    assert m.enable[0] == 0x1234_5678


def test_model_mmio_wait_irq():
    m, mmio = bus()
    mmio.irq_timeout = 50
    with pytest.raises(TimeoutError):
        run(mmio.wait_irq(0))
    m.write(R.priority(2), 1)
    m.write(R.enable(0, 0), bit(2))
    m.lines = bit(2)
    start = mmio.cycles
    run(mmio.wait_irq(0))
    assert m.eip & 1 and mmio.cycles - start == 2


# -- driver sequences -----------------------------------------------------------------------------------

class RecordingMmio:
    """Mmio wrapper that logs every access as (kind, address, value)."""

    def __init__(self, inner):
        self.inner = inner
        self.log = []

    async def read(self, addr, width=32):
        value = await self.inner.read(addr, width)
        self.log.append(("r", addr, value))
        return value

    async def write(self, addr, value, width=32):
        self.log.append(("w", addr, value))
        await self.inner.write(addr, value, width)

    async def wait_irq(self, line):
        await self.inner.wait_irq(line)


UART0_IRQ, VIRTIO0_IRQ = 10, 1      # xv6's sources on QEMU virt


def test_xv6_sequence():
    m, inner = bus()
    mmio = RecordingMmio(inner)
    plic = PlicDriver(mmio, BASE, m.config.sources, m.config.contexts)

    async def scenario():
        await plic.xv6_plicinit([UART0_IRQ, VIRTIO0_IRQ])
        await plic.xv6_plicinithart(0, [UART0_IRQ, VIRTIO0_IRQ])
        assert mmio.log == [
            ("w", BASE + 0x28, 1), ("w", BASE + 0x4, 1),          # priorities
            ("w", BASE + 0x2080, bit(UART0_IRQ) | bit(VIRTIO0_IRQ)),  # S-mode enable, one store
            ("w", BASE + 0x20_1000, 0),                            # S-mode threshold
        ]
        m.lines = bit(UART0_IRQ) | bit(VIRTIO0_IRQ)
        seen = []
        for _ in range(2):                          # devintr: one claim per trap
            await inner.wait_irq(1)
            irq = await plic.xv6_claim(0)
            seen.append(irq)
            m.lines &= ~bit(irq)                    # the device handler acknowledges it
            await plic.xv6_complete(0, irq)
        await inner.idle(3)
        assert seen == [VIRTIO0_IRQ, UART0_IRQ]     # equal priority: the lower ID first
        assert m.eip == 0 and await plic.xv6_claim(0) == 0
        assert mmio.log[-3:-1] == [("r", BASE + 0x20_1004, UART0_IRQ),
                                   ("w", BASE + 0x20_1004, UART0_IRQ)]

    run(scenario())


def test_xv6_second_hart_uses_context_3():
    m, mmio = bus(contexts=4)
    plic = PlicDriver(mmio, BASE, m.config.sources, m.config.contexts)

    async def scenario():
        await plic.xv6_plicinit([UART0_IRQ])
        await plic.xv6_plicinithart(1, [UART0_IRQ])
        assert m.enable == [0, 0, 0, bit(UART0_IRQ)]
        m.lines = bit(UART0_IRQ)
        await mmio.wait_irq(3)
        assert await plic.xv6_claim(1) == UART0_IRQ

    run(scenario())


def linux_plic(**kwargs):
    m, inner = bus(**kwargs)
    mmio = RecordingMmio(inner)
    return m, mmio, PlicDriver(mmio, BASE, m.config.sources, m.config.contexts)


def test_linux_context_init_sequence():
    m, mmio, plic = linux_plic(sources=3)
    m.write(R.enable(1, 0), 0b1110)                 # left over by firmware

    async def scenario():
        await plic.linux_init_context(1)
        await plic.linux_init_context(0, threshold=0xFFFF_FFFF)   # an ignored M-mode context

    run(scenario())
    enable1 = BASE + R.enable(1, 0)
    assert mmio.log[:10] == [
        ("w", BASE + R.threshold(1), 0),
        ("r", enable1, 0b1110), ("w", enable1, 0b1100), ("w", BASE + R.priority(1), 1),
        ("r", enable1, 0b1100), ("w", enable1, 0b1000), ("w", BASE + R.priority(2), 1),
        ("r", enable1, 0b1000), ("w", enable1, 0b0000), ("w", BASE + R.priority(3), 1),
    ]
    assert m.enable == [0, 0] and m.priority == [0, 1, 1, 1]
    assert m.threshold == [7, 0]                    # WARL keeps the low 3 bits


def test_linux_chained_handler_and_mask():
    m, mmio, plic = linux_plic()
    ctx = 1

    async def device_handler(irq):
        m.lines &= ~bit(irq)
        if irq == 3:                                # another device fires during the handler
            m.lines |= bit(12)

    async def scenario():
        for c in range(m.config.contexts):
            await plic.linux_init_context(c)
        for irq in (3, 5, 9, 12):
            await plic.linux_enable(ctx, irq)
        m.lines = bit(9) | bit(3) | bit(5)
        await mmio.wait_irq(ctx)
        assert await plic.linux_handle(ctx, device_handler) == [3, 5, 9, 12]
        await mmio.inner.idle(3)
        assert m.eip == 0

        await plic.linux_mask(5)                    # mask by priority 0
        m.lines = bit(5)
        await mmio.inner.idle(5)
        assert m.eip == 0 and await plic.linux_handle(ctx, device_handler) == []
        await plic.linux_unmask(5)
        await mmio.wait_irq(ctx)
        assert await plic.linux_handle(ctx, device_handler) == [5]

        await plic.linux_disable(ctx, 9)
        m.lines = bit(9)
        await mmio.inner.idle(5)
        assert m.eip == 0

    run(scenario())


def test_linux_eoi_of_a_disabled_irq():
    """Commit 69ea463021be: the completion of a disabled IRQ needs it enabled around the write."""
    m, mmio, plic = linux_plic()
    ctx = 1

    async def scenario(toggle: bool):
        m.reset()
        m.lines = 0
        await plic.linux_init_context(ctx)
        await plic.linux_enable(ctx, 6)
        m.lines = bit(6)
        await mmio.wait_irq(ctx)
        assert await plic.linux_claim(ctx) == 6
        await plic.linux_disable(ctx, 6)            # disable_irq() inside the handler
        await plic.linux_eoi(ctx, 6, disabled=toggle)
        await mmio.inner.idle(3)
        return bool(await mmio.read(BASE + R.pending(0)) & bit(6)), m.enable[ctx]

    assert run(scenario(True)) == (True, 0)         # gateway re-opened, IRQ still disabled
    assert run(scenario(False)) == (False, 0)       # plain write ignored: gateway stays closed


def test_linux_handler_detects_a_storm():
    m, mmio, plic = linux_plic()

    async def scenario():
        await plic.linux_init_context(1)
        for irq in (4, 5, 6):
            await plic.linux_enable(1, irq)
        m.lines = bit(4) | bit(5) | bit(6)
        await mmio.wait_irq(1)
        await plic.linux_handle(1, lambda irq: None, limit=2)

    with pytest.raises(InterruptStorm):
        run(scenario())


def test_driver_checks_ids_and_contexts():
    m, mmio, plic = linux_plic()
    with pytest.raises(ValueError):
        run(plic.linux_mask(0))
    with pytest.raises(ValueError):
        run(plic.linux_enable(2, 1))
    with pytest.raises(ValueError):
        run(plic.xv6_claim(1))                      # context 3 does not exist
