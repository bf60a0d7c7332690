"""The ATSINTC reference model against docs/atsintc.md, the ATSINTC driver on it through
TransactionMmio, and the executor running one application on the ATSINTC and on the PLIC.

Conventions: ``m.write``/``m.read`` are single bus transactions on the transaction-level model;
``m.settle()`` carries out the waiting interrupt wakes. Offsets come from the generated constants
(:mod:`atsoc.sim.driver.regs.atsintc`).
"""

import asyncio
import copy
import random
from collections import deque

import pytest

from atsoc.hdl.atsintc.config import ATSINTCConfig
from atsoc.hdl.atsintc.registers import ErrorCause
from atsoc.hdl.plic.config import PLICConfig
from atsoc.sim.driver import atsintc as drv
from atsoc.sim.driver.atsintc import AtsIntcDriver, AtsIntcError, AtsIntcInfo
from atsoc.sim.driver.executor import (
    TASK_ALIGN, AtsIntcBackend, CountingMmio, Executor, PlicBackend, TaskState, UnexpectedWord,
    is_token,
)
from atsoc.sim.driver.mmio import BusError, Mmio, ModelMmio, Resp, TransactionMmio
from atsoc.sim.driver.plic import PlicDriver
from atsoc.sim.driver.regs import atsintc as R
from atsoc.sim.model.atsintc import ATSINTCModel
from atsoc.sim.model.plic import PLICModel


FULL = 0xFF
QUEUE_FULL = 1 << ErrorCause.QUEUE_FULL
ZERO_WORD = 1 << ErrorCause.ZERO_WORD
BAD_LEVEL = 1 << ErrorCause.BAD_LEVEL
IRQ_QUEUE_FULL = 1 << ErrorCause.IRQ_QUEUE_FULL
IPC_QUEUE_FULL = 1 << ErrorCause.IPC_QUEUE_FULL
SEND_FULL = 1 << ErrorCause.SEND_FULL
BAD_TARGET = 1 << ErrorCause.BAD_TARGET
PARTIAL_WRITE = 1 << ErrorCause.PARTIAL_WRITE


def bit(n: int) -> int:
    return 1 << n


def model(**kwargs) -> ATSINTCModel:
    return ATSINTCModel(ATSINTCConfig(**kwargs))


def enqueue(m, process, level, word, strb=FULL) -> bool:
    return m.write(R.enqueue(process, level), word, strb)


def dequeue(m, process) -> int:
    data, slverr = m.read(R.dequeue(process))
    assert not slverr
    return data


def drain(m, process) -> list:
    words = []
    while word := dequeue(m, process):
        words.append(word)
    return words


def register_irq(m, process, line, word, strb=FULL) -> bool:
    return m.write(R.intr_handler(process, line), word, strb)


def register_ipc(m, process, channel, word, strb=FULL) -> bool:
    return m.write(R.ipc_handler(process, channel), word, strb)


def send(m, sender, receiver, channel, strb=FULL) -> bool:
    return m.write(R.send(sender), receiver | channel << 16, strb)


def reg(m, offset) -> int:
    data, slverr = m.read(offset)
    assert not slverr
    return data


def state(m):
    """Everything software-visible or internal, to show an access changed nothing."""
    return copy.deepcopy((m.queues, m.error, m.notify_ctrl, m.notification, m.irq_blocked,
                          m.gateway_open, m.irq_pending, m.ipc_blocked, m.send_pending,
                          m.stream_drops))


def refused(m, process, cause, action) -> None:
    """``action()`` (a write) answers SLVERR, sets ``cause`` in ``process``'s error register and
    changes nothing else."""
    before = state(m)
    assert action() is True
    assert m.error[process] == cause
    m.error[process] = before[1][process]
    assert state(m) == before


def run(coro):
    return asyncio.run(coro)


# -- register map ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, dict(processes=3, priorities=255, capacity=4096, irq_lines=64,
                                             channels=1)])
def test_reset_values_and_info(kwargs):
    m = model(**kwargs)
    cfg = m.config
    info = (cfg.priorities | cfg.capacity << 8 | cfg.processes << 24 | cfg.irq_lines << 32
            | cfg.channels << 40)
    for p in range(cfg.processes):
        assert reg(m, R.info(p)) == info == m.regmap["info"].reset
        for offset in (R.dequeue(p), R.enqueue(p, 0), R.error(p), R.count(p), R.notify_ctrl(p),
                       R.irq_pending(p), R.stream_drops(p)):
            assert reg(m, offset) == 0
    assert m.notify == 0 and m.gateway_open == (1 << cfg.irq_lines) - 1


def test_write_only_registers_read_zero_and_read_only_ignore_writes():
    m = model()
    enqueue(m, 1, 2, 0x40)
    before = state(m)
    for offset in (R.send(1), R.ipc_handler(1, 3), R.intr_handler(1, 4)):
        assert m.read(offset) == (0, False)
    for offset in (R.dequeue(1), R.count(1), R.irq_pending(1), R.stream_drops(1), R.info(1)):
        for strb in (FULL, 0x0F):
            assert m.write(offset, 0xFFFF_FFFF_FFFF_FFFF, strb) is False
    assert state(m) == before                      # the write to dequeue popped nothing
    assert reg(m, R.info(1)) == m.regmap["info"].reset


def reserved_offsets(cfg: ATSINTCConfig):
    return [
        0xA00, 0xBF8, 0xC30, 0xDF8, 0xFF8,                    # holes of a window
        R.ipc_handler(0, cfg.channels),                        # channel >= NCHAN
        R.intr_handler(1, cfg.irq_lines),                      # line >= NIRQ
        R.dequeue(cfg.processes), R.enqueue(cfg.processes, 0),  # window of no process
        R.info(cfg.processes), (1 << cfg.addr_width) - 8,
    ]


@pytest.mark.parametrize("policy", ["raz_wi", "slverr"])
def test_reserved_addresses(policy):
    cfg = ATSINTCConfig(processes=3, irq_lines=8, channels=4, reserved_policy=policy)
    m = ATSINTCModel(cfg)
    enqueue(m, 0, 0, 0x80)
    register_irq(m, 0, 1, 0x90)
    before = state(m)
    for offset in reserved_offsets(cfg):
        assert m.regmap.decode(offset) is None, hex(offset)
        assert m.read(offset) == (0, policy == "slverr"), hex(offset)
        for strb in (FULL, 0x01):
            assert m.write(offset, 0x1234, strb) is (policy == "slverr"), hex(offset)
        assert state(m) == before, hex(offset)


@pytest.mark.parametrize("strb", [0x00, 0x01, 0x0F, 0x7F, 0xF0, 0xFE])
def test_partial_writes_to_queue_registers_are_refused(strb):
    m = model()
    register_irq(m, 2, 3, 0x100)
    m.set_lines(bit(5))
    m.settle()                                     # line 5 pending
    for offset in (R.enqueue(2, 0), R.enqueue(2, 200), R.send(2), R.ipc_handler(2, 0),
                   R.intr_handler(2, 5)):
        refused(m, 2, PARTIAL_WRITE, lambda: m.write(offset, 0x200, strb))


def test_partial_writes_to_error_and_notify_ctrl_apply_per_byte():
    m = model(harts=4)
    m.write(R.notify_ctrl(1), 0x0301)              # enable, hart 3
    m.write(R.notify_ctrl(1), 0x0000, 0x01)        # byte 0 only: enable cleared, hart kept
    assert reg(m, R.notify_ctrl(1)) == 0x0300
    m.write(R.notify_ctrl(1), 0xFFFF_FFFF_FFFF_FFFF, 0x02)   # byte 1: hart bits only (6 bits)
    assert reg(m, R.notify_ctrl(1)) == 0x3F00
    m.write(R.notify_ctrl(1), 0xFFFF_FFFF_FFFF_FFFF)
    assert reg(m, R.notify_ctrl(1)) == 0x3F01      # the other bits read 0
    m.error[1] = 0xFF
    m.write(R.error(1), 0xFF, 0xFE)                # byte 0 not strobed: nothing cleared
    assert reg(m, R.error(1)) == 0xFF
    m.write(R.error(1), 0x81, 0x01)                # W1C
    assert reg(m, R.error(1)) == 0x7E
    m.write(R.error(1), 0x00)                      # writing 0 clears nothing
    assert reg(m, R.error(1)) == 0x7E
    assert m.error[0] == 0


# -- the priority scheduler ------------------------------------------------------------------------

def test_priority_order_and_fifo_within_a_level():
    m = model()
    words = [(3, 0x30), (0, 0x01), (7, 0x70), (3, 0x31), (0, 0x02), (1, 0x10), (3, 0x32)]
    for level, word in words:
        assert enqueue(m, 0, level, word) is False
    assert reg(m, R.enqueue(0, 3)) == 3 and reg(m, R.enqueue(0, 7)) == 1
    assert reg(m, R.enqueue(0, 8)) == 0 and reg(m, R.enqueue(0, 254)) == 0   # levels >= NPRIO
    assert reg(m, R.count(0)) == len(words)
    assert drain(m, 0) == [0x01, 0x02, 0x10, 0x30, 0x31, 0x32, 0x70]
    assert dequeue(m, 0) == 0 and m.error[0] == 0  # empty: 0, not an error
    assert reg(m, R.count(0)) == 0


def test_process_isolation():
    m = model()
    for p in range(4):
        for k in range(3):
            enqueue(m, p, k, 0x1000 * (p + 1) + k)
    assert drain(m, 2) == [0x3000, 0x3001, 0x3002]
    for p in (0, 1, 3):
        assert reg(m, R.count(p)) == 3
    refused(m, 1, ZERO_WORD, lambda: enqueue(m, 1, 0, 0))
    assert m.error == [0, 0, 0, 0]
    m.error[3] = ZERO_WORD
    assert reg(m, R.error(3)) == ZERO_WORD and reg(m, R.error(0)) == 0
    assert drain(m, 0) == [0x1000, 0x1001, 0x1002]


@pytest.mark.parametrize("capacity", [2, 16])
def test_capacity_is_shared_by_the_levels(capacity):
    m = model(capacity=capacity)
    expected = []
    for k in range(capacity):
        level = k % 3
        assert enqueue(m, 1, level, 0x100 + k) is False
        expected.append((level, k, 0x100 + k))
    for level in (0, 5):
        refused(m, 1, QUEUE_FULL, lambda: enqueue(m, 1, level, 0xDEAD))
    assert reg(m, R.count(1)) == capacity
    enqueue(m, 0, 0, 0x77)                          # another process is not full
    first = dequeue(m, 1)
    assert enqueue(m, 1, 2, 0xBEEF) is False        # room again
    expected.append((2, capacity, 0xBEEF))
    order = [w for _, _, w in sorted(expected)]
    assert [first] + drain(m, 1) == order


@pytest.mark.parametrize("level", [8, 9, 254])
def test_bad_level_and_zero_word(level):
    m = model()
    refused(m, 0, BAD_LEVEL, lambda: enqueue(m, 0, level, 0x10))
    refused(m, 0, ZERO_WORD, lambda: enqueue(m, 0, 0, 0))
    refused(m, 0, ZERO_WORD, lambda: enqueue(m, 0, level, 0))   # malformed word first
    assert m.count(0) == 0


def test_bad_level_on_a_full_queue_is_bad_level():
    m = model(capacity=2)
    enqueue(m, 0, 0, 1)
    enqueue(m, 0, 0, 2)
    refused(m, 0, BAD_LEVEL, lambda: enqueue(m, 0, 8, 3))


def test_sticky_errors_accumulate():
    m = model(priorities=2)
    assert enqueue(m, 0, 0, 0) and enqueue(m, 0, 5, 1)
    assert reg(m, R.error(0)) == ZERO_WORD | BAD_LEVEL
    m.write(R.error(0), ZERO_WORD)
    assert reg(m, R.error(0)) == BAD_LEVEL


# -- interrupts --------------------------------------------------------------------------------------

def test_interrupt_before_registration_is_delivered_at_registration():
    m = model()
    m.set_lines(bit(6))
    m.settle()
    assert m.irq_pending == bit(6) and not m.gateway_open & bit(6)
    assert all(reg(m, R.irq_pending(p)) == bit(6) for p in range(4))   # the same in every window
    assert m.count(2) == 0
    assert register_irq(m, 2, 6, 0x600) is False
    assert m.queues[2][0] == deque([0x600]) and m.irq_pending == 0
    assert not m.gateway_open & bit(6)              # the request is consumed: still closed
    assert m.notification[2]
    m.settle()                                      # line still high: nothing more
    assert m.count(2) == 1 and m.irq_pending == 0


def test_held_level_line_wakes_exactly_one_handler_per_registration():
    m = model()
    register_irq(m, 1, 4, 0x41)
    register_irq(m, 1, 4, 0x42)
    m.set_lines(bit(4))
    for _ in range(3):
        m.settle()
    assert list(m.queues[1][0]) == [0x41]           # the oldest handler, once
    assert [h.word for h in m.irq_blocked[4]] == [0x42] and not m.gateway_open & bit(4)
    assert dequeue(m, 1) == 0x41
    register_irq(m, 1, 4, 0x43)                     # re-registration opens the gateway
    m.settle()
    m.settle()
    assert drain(m, 1) == [0x42]
    m.set_lines(0)                                  # line low: a registration does not wake
    register_irq(m, 1, 4, 0x44)
    m.settle()
    assert m.count(1) == 0 and m.gateway_open & bit(4)
    m.set_lines(bit(4))
    m.settle()
    assert drain(m, 1) == [0x43]


def test_handlers_go_to_their_owners_level_zero():
    m = model()
    enqueue(m, 3, 0, 0x1)
    register_irq(m, 3, 0, 0x300)
    register_irq(m, 0, 0, 0x100)
    m.set_lines(bit(0))
    m.settle()
    assert list(m.queues[3][0]) == [0x1, 0x300]     # appended to level 0 (FIFO)
    assert m.count(0) == 0
    assert not m.notification[0] and m.notification[3]


def test_wakes_are_taken_lowest_line_first():
    m = model(capacity=2)
    enqueue(m, 0, 5, 0x5)
    for line in (9, 3, 7):
        register_irq(m, 0, line, 0x100 + line)
    m.set_lines(bit(3) | bit(7) | bit(9))
    m.settle()
    assert list(m.queues[0][0]) == [0x103]          # line 3, then the queue is full
    assert m.irq_waiting == bit(7) | bit(9)
    assert m.irq_request == bit(7) | bit(9) and m.error[0] == 0     # latched; no error for a wait
    assert dequeue(m, 0) == 0x103
    m.settle()
    assert list(m.queues[0][0]) == [0x107]
    assert drain(m, 0) == [0x107, 0x5]
    m.settle()
    assert drain(m, 0) == [0x109]


def test_wake_waits_in_the_gateway_while_the_owner_is_full():
    m = model(capacity=2)
    register_irq(m, 1, 2, 0x22)
    enqueue(m, 1, 3, 0xA)
    enqueue(m, 1, 3, 0xB)
    m.set_lines(bit(2))
    for _ in range(3):
        m.settle()
    assert m.count(1) == 2 and m.irq_pending == 0 and m.irq_waiting == bit(2)
    assert dequeue(m, 1) == 0xA
    m.settle()
    assert drain(m, 1) == [0x22, 0xB] and m.irq_waiting == 0


def test_a_request_waiting_for_room_stays_latched():
    """The gateway latches the request when it sees the line (docs/atsintc.md): a level line
    that drops while its wake waits for room still gets its wake, so no interrupt is lost."""
    m = model(capacity=2)
    register_irq(m, 1, 2, 0x22)
    enqueue(m, 1, 3, 0xA)
    enqueue(m, 1, 3, 0xB)
    m.set_lines(bit(2))
    m.settle()
    m.set_lines(0)
    dequeue(m, 1)
    m.settle()
    assert m.count(1) == 2 and m.queues[1][0][0] == 0x22 and not m.irq_blocked[2]


def test_one_cycle_pulse_is_latched():
    """A pulse seen by an open gateway is kept even if nothing settles while it is high."""
    m = model()
    register_irq(m, 0, 4, 0x44)
    m.set_lines(bit(4))
    m.set_lines(0)
    m.settle()
    assert drain(m, 0) == [0x44]


def test_irq_registration_refusals():
    m = model(irq_queue_depth=2, capacity=2)
    refused(m, 0, ZERO_WORD, lambda: register_irq(m, 0, 1, 0))
    register_irq(m, 0, 1, 0x11)
    register_irq(m, 2, 1, 0x12)                      # blocked queue shared by the processes
    refused(m, 3, IRQ_QUEUE_FULL, lambda: register_irq(m, 3, 1, 0x13))
    m.set_lines(bit(8))
    m.settle()                                      # line 8 pending
    enqueue(m, 0, 2, 1)
    enqueue(m, 0, 2, 2)
    refused(m, 0, QUEUE_FULL, lambda: register_irq(m, 0, 8, 0x80))   # delivery to a full queue
    assert m.irq_pending == bit(8)
    dequeue(m, 0)
    assert register_irq(m, 0, 8, 0x80) is False
    assert list(m.queues[0][0]) == [0x80]


# -- IPC ----------------------------------------------------------------------------------------------

def test_send_to_a_channel_with_a_handler_wakes_the_oldest():
    m = model()
    register_ipc(m, 2, 5, 0x51)
    register_ipc(m, 2, 5, 0x52)
    assert send(m, 0, 2, 5) is False
    assert list(m.queues[2][0]) == [0x51] and m.notification[2]
    assert list(m.ipc_blocked[2][5]) == [0x52] and m.send_pending[2][5] == 0
    assert send(m, 3, 2, 5) is False
    assert drain(m, 2) == [0x51, 0x52]


def test_send_without_a_handler_is_pending_until_registration():
    m = model(send_pending_limit=3)
    for _ in range(3):
        assert send(m, 1, 0, 7) is False
    assert m.send_pending[0][7] == 3 and m.count(0) == 0 and not m.notification[0]
    refused(m, 1, SEND_FULL, lambda: send(m, 1, 0, 7))      # the sender's window
    assert register_ipc(m, 0, 7, 0x70) is False
    assert m.send_pending[0][7] == 2 and list(m.queues[0][0]) == [0x70]
    assert m.notification[0]
    assert send(m, 1, 0, 7) is False                # one more fits again
    assert m.send_pending[0][7] == 3


def test_send_refusals():
    m = model(processes=2, channels=3, capacity=2, ipc_queue_depth=1)
    refused(m, 1, BAD_TARGET, lambda: send(m, 1, 2, 0))      # receiver >= NPROC
    refused(m, 0, BAD_TARGET, lambda: send(m, 0, 1, 3))      # channel >= NCHAN
    refused(m, 0, BAD_TARGET, lambda: m.write(R.send(0), 0xFFFF))
    register_ipc(m, 1, 2, 0x12)
    refused(m, 1, IPC_QUEUE_FULL, lambda: register_ipc(m, 1, 2, 0x13))
    refused(m, 1, ZERO_WORD, lambda: register_ipc(m, 1, 0, 0))
    enqueue(m, 1, 4, 1)
    enqueue(m, 1, 4, 2)
    refused(m, 0, QUEUE_FULL, lambda: send(m, 0, 1, 2))      # the handler stays
    assert list(m.ipc_blocked[1][2]) == [0x12]
    send(m, 1, 1, 0)                                # pending for (1, 0)
    refused(m, 1, QUEUE_FULL, lambda: register_ipc(m, 1, 0, 0x10))
    assert m.send_pending[1][0] == 1


def test_send_ignores_bits_above_the_fields():
    m = model()
    register_ipc(m, 1, 2, 0x12)
    assert m.write(R.send(0), 0xFFFF_FFFF_FF00_0000 | 2 << 16 | 1) is False
    assert list(m.queues[1][0]) == [0x12]


# -- notification ---------------------------------------------------------------------------------------

def test_notification_raised_by_hardware_and_cleared_by_dequeue():
    m = model(harts=2)
    m.write(R.notify_ctrl(1), 0x0101)               # process 1 -> hart 1
    m.write(R.notify_ctrl(2), 0x0001)               # process 2 -> hart 0
    enqueue(m, 1, 3, 0x5)                           # software enqueue: no notification
    assert m.notify == 0 and not m.notification[1]
    register_irq(m, 1, 0, 0x10)
    m.set_lines(bit(0))
    m.settle()
    assert m.notify == 0b10
    assert dequeue(m, 1) == 0x10                    # a dequeue clears it, entries remain
    assert m.notify == 0 and m.count(1) == 1
    register_ipc(m, 2, 0, 0x20)
    send(m, 1, 2, 0)
    assert m.notify == 0b01
    assert drain(m, 2) == [0x20]
    dequeue(m, 2)                                   # even an empty dequeue clears it
    assert m.notify == 0
    assert m.stream_push(1, 3, 0x30) == "stored"
    assert m.notify == 0b10
    m.write(R.notify_ctrl(1), 0x0100)               # disabled: notification kept, line low
    assert m.notify == 0 and m.notification[1]
    m.write(R.notify_ctrl(1), 0x0001)               # rebound to hart 0
    assert m.notify == 0b01


def test_empty_dequeue_clears_the_notification():
    m = model()
    m.write(R.notify_ctrl(0), 1)
    m.stream_push(0, 0, 0x8)
    assert m.notify == 1
    assert dequeue(m, 0) == 0x8
    assert m.notify == 0
    m.notification[0] = True
    assert dequeue(m, 0) == 0 and m.notify == 0


def test_notify_for_a_hart_that_does_not_exist():
    m = model(harts=1)
    m.write(R.notify_ctrl(0), 0x0501)
    m.stream_push(0, 0, 0x8)
    assert m.notify == 0


# -- the hardware enqueue stream ------------------------------------------------------------------------

def test_stream_stores_drops_and_waits():
    m = model(capacity=2, processes=2)
    assert m.stream_push(1, 3, 0x31) == "stored"
    assert m.stream_push(1, 0, 0x01) == "stored"
    assert m.stream_push(1, 0, 0x02) == "wait"      # full: not accepted, nothing counted
    assert m.stream_drops == 0 and m.error == [0, 0]
    for beat in ((1, 0, 0), (1, 8, 0x5), (2, 0, 0x5), (0xFF, 0xFF, 0)):
        assert m.stream_push(*beat) == "dropped"    # never storable: dropped even when full
    assert reg(m, R.stream_drops(0)) == 4 == reg(m, R.stream_drops(1))
    assert drain(m, 1) == [0x01, 0x31]
    assert m.stream_push(1, 0, 0x02) == "stored"


def test_stream_drops_wrap_at_32_bits():
    m = model()
    m.stream_drops = 0xFFFF_FFFF
    m.stream_push(0, 0, 0)
    assert reg(m, R.stream_drops(0)) == 0


def test_interrupt_wakes_go_before_the_stream():
    m = model(capacity=2)
    enqueue(m, 0, 7, 0x7)
    register_irq(m, 0, 1, 0x11)
    m.set_lines(bit(1))
    assert m.stream_push(0, 0, 0xAA) == "wait"      # the wake took the last entry
    assert list(m.queues[0][0]) == [0x11]


# -- a random cross-check -----------------------------------------------------------------------------

def test_random_enqueue_dequeue_against_a_sorted_reference():
    rng = random.Random(7)
    m = model(capacity=16, priorities=4)
    ref = []
    seq = 0
    for _ in range(3000):
        if rng.random() < 0.55:
            level, word = rng.randrange(5), rng.choice([0, rng.getrandbits(64) | 2])
            slverr = enqueue(m, 0, level, word)
            ok = word != 0 and level < 4 and len(ref) < 16
            assert slverr == (not ok)
            if ok:
                ref.append((level, seq, word))
                seq += 1
            m.error[0] = 0
        else:
            ref.sort()
            expected = ref.pop(0)[2] if ref else 0
            assert dequeue(m, 0) == expected
        assert reg(m, R.count(0)) == len(ref)


# -- the driver -------------------------------------------------------------------------------------------

BASE = ATSINTCConfig().base


class RecordingMmio:
    """Mmio wrapper that logs every access as (kind, address, value, width)."""

    def __init__(self, inner):
        self.inner = inner
        self.log = []

    async def read(self, addr, width=32):
        value = await self.inner.read(addr, width)
        self.log.append(("r", addr, value, width))
        return value

    async def write(self, addr, value, width=32):
        self.log.append(("w", addr, value, width))
        await self.inner.write(addr, value, width)

    async def wait_irq(self, line):
        await self.inner.wait_irq(line)


def atsintc(**kwargs):
    m = model(**kwargs)
    mmio = RecordingMmio(TransactionMmio(m, BASE, irq=lambda: m.notify, irq_timeout=1))
    return m, mmio, AtsIntcDriver(mmio, BASE)


def test_transaction_mmio():
    m = model()
    mmio = TransactionMmio(m, BASE, irq=lambda: m.notify, irq_timeout=3)
    assert isinstance(mmio, Mmio)

    async def scenario():
        await mmio.write(BASE + R.enqueue(0, 1), 0x1122_3344_5566_7788, 64)
        assert await mmio.read(BASE + R.info(0) + 4, 16) == 0x1F20
        with pytest.raises(BusError) as err:
            await mmio.write(BASE + R.enqueue(0, 1), 0x99, 32)       # narrow queue write
        assert err.value.resp is Resp.SLVERR and m.error[0] == PARTIAL_WRITE
        with pytest.raises(BusError) as err:
            await mmio.read(BASE + m.size)
        assert err.value.resp is Resp.DECERR
        with pytest.raises(ValueError):
            await mmio.read(BASE + 4, 64)
        with pytest.raises(TimeoutError):
            await mmio.wait_irq(0)
        assert await mmio.read(BASE + R.dequeue(0), 64) == 0x1122_3344_5566_7788
        assert (mmio.reads, mmio.writes) == (2, 2)  # an answered SLVERR counts, a DECERR not

    run(scenario())


def test_transaction_mmio_counts_and_settles():
    m = model()
    ticks = []
    mmio = TransactionMmio(m, BASE, irq=lambda: m.notify, tick=lambda: ticks.append(1)
                           or m.set_lines(bit(3)), irq_timeout=5)

    async def scenario():
        await mmio.write(BASE + R.notify_ctrl(0), 1, 64)
        await mmio.write(BASE + R.intr_handler(0, 3), 0x33, 64)
        await mmio.wait_irq(0)                      # the tick raises line 3, settle wakes
        assert len(ticks) == 1
        assert await mmio.read(BASE + R.dequeue(0), 64) == 0x33
        assert (mmio.reads, mmio.writes) == (1, 2)

    run(scenario())


def test_driver_register_sequences():
    m, mmio, intc = atsintc()

    async def scenario():
        await intc.ps_push(1, 0xABC0, 2)
        await intc.intr_push(1, 5, 0x5550)
        await intc.ipc_register(3, 4, 0x4440)
        await intc.ipc_send(0, 3, 4)
        await intc.notify_enable(3, 0)
        assert await intc.occupancy(1, 2) == 1
        assert await intc.count(3) == 1
        assert await intc.ps_fetch(3) == 0x4440
        assert await intc.ps_fetch(1) == 0xABC0
        assert await intc.ps_fetch(1) == 0

    run(scenario())
    assert mmio.log[:5] == [
        ("w", BASE + 0x1000 + 0x8 + 2 * 8, 0xABC0, 64),
        ("w", BASE + 0x1000 + 0x900 + 5 * 8, 0x5550, 64),
        ("w", BASE + 0x3000 + 0x808 + 4 * 8, 0x4440, 64),
        ("w", BASE + 0x800, 3 | 4 << 16, 64),
        ("w", BASE + 0x3C10, 0x0001, 64),
    ]
    assert all(width == 64 for *_, width in mmio.log)


def test_driver_info_and_probe():
    m, mmio, intc = atsintc(priorities=16, capacity=64, processes=2, irq_lines=12, channels=5)
    info = run(intc.probe())
    assert info == AtsIntcInfo(16, 64, 2, 12, 5) == AtsIntcInfo.from_config(m.config)
    assert intc.config_info == info
    with pytest.raises(ValueError):
        run(intc.ps_fetch(2))                       # process >= NPROC
    with pytest.raises(ValueError):
        run(intc.intr_push(0, 12, 0x10))
    with pytest.raises(ValueError):
        run(intc.ipc_register(0, 5, 0x10))
    plain = AtsIntcDriver(mmio, BASE)               # without info: only the address limits
    with pytest.raises(ValueError):
        run(plain.ps_push(0, 0x10, 255))            # would address `send`
    with pytest.raises(drv.BadLevel):
        run(plain.ps_push(0, 0x10, 200))            # a register of the window: the hardware refuses


@pytest.mark.parametrize("cause, exc, setup, action", [
    ("queue_full", drv.QueueFull,
     lambda i: [i.ps_push(0, 0x10, 0), i.ps_push(0, 0x20, 0)], lambda i: i.ps_push(0, 0x30, 1)),
    ("zero_word", drv.ZeroWord, lambda i: [], lambda i: i.ps_push(0, 0, 1)),
    ("bad_level", drv.BadLevel, lambda i: [], lambda i: i.ps_push(0, 0x10, 200)),
    ("irq_queue_full", drv.IrqQueueFull,
     lambda i: [i.intr_push(0, 1, 0x10)], lambda i: i.intr_push(0, 1, 0x20)),
    ("ipc_queue_full", drv.IpcQueueFull,
     lambda i: [i.ipc_register(0, 1, 0x10)], lambda i: i.ipc_register(0, 1, 0x20)),
    ("send_full", drv.SendFull, lambda i: [i.ipc_send(0, 1, 2)], lambda i: i.ipc_send(0, 1, 2)),
    ("bad_target", drv.BadTarget, lambda i: [], lambda i: i.ipc_send(0, 9, 0)),
])
def test_driver_raises_the_cause(cause, exc, setup, action):
    m, mmio, intc = atsintc(capacity=2, irq_queue_depth=1, ipc_queue_depth=1, send_pending_limit=1)

    async def scenario():
        for step in setup(intc):
            await step
        before = state(m)
        with pytest.raises(exc) as err:
            await action(intc)
        assert isinstance(err.value, AtsIntcError) and isinstance(err.value, BusError)
        assert err.value.cause == cause and err.value.causes == {cause}
        assert err.value.resp is Resp.SLVERR and err.value.process == 0
        assert cause in str(err.value)
        assert state(m) == before                   # refused and acknowledged: no change
        assert await intc.errors(0) == set()

    run(scenario())


def test_driver_errors_and_clear_errors():
    m, mmio, intc = atsintc()
    m.error[2] = ZERO_WORD | SEND_FULL | PARTIAL_WRITE

    async def scenario():
        assert await intc.errors(2) == {"zero_word", "send_full", "partial_write"}
        await intc.clear_errors(2, ["send_full"])
        assert await intc.errors(2) == {"zero_word", "partial_write"}
        await intc.clear_errors(2)
        assert await intc.errors(2) == set()

    run(scenario())


def test_error_classes_and_reserved_access():
    assert drv.error_for(0x10, 1, PARTIAL_WRITE).__class__ is drv.PartialWrite
    assert drv.error_for(0x10, 1, 0).__class__ is drv.ReservedAccess
    both = drv.error_for(0x10, 1, ZERO_WORD | QUEUE_FULL)
    assert isinstance(both, drv.QueueFull) and both.causes == {"zero_word", "queue_full"}
    m = model(reserved_policy="slverr")
    mmio = TransactionMmio(m, BASE)
    intc = AtsIntcDriver(mmio, BASE, m.config)
    with pytest.raises(drv.ReservedAccess):
        run(intc._read(0, 0xC30))


def test_driver_other_bus_errors_pass_through():
    m = model()
    intc = AtsIntcDriver(TransactionMmio(m, BASE), BASE - 0x1000)   # wrong base: DECERR
    with pytest.raises(BusError) as err:
        run(intc.ps_fetch(0))
    assert err.value.resp is Resp.DECERR and not isinstance(err.value, AtsIntcError)


def test_driver_status_registers():
    m, mmio, intc = atsintc()
    m.set_lines(bit(2) | bit(31))
    m.stream_push(0, 0, 0)

    async def scenario():
        assert await intc.irq_pending() == bit(2) | bit(31)
        assert await intc.stream_drops() == 1

    run(scenario())


# -- the executor -----------------------------------------------------------------------------------------

LINE = 5            # ATSINTC line 5 / PLIC source 5
HART = 0
PLIC_CONTEXT = 1    # S-mode context of hart 0


class Device:
    """A device raising a level interrupt ``events`` times, ``delay`` polls after each ack."""

    def __init__(self, set_line, events: int, delay: int = 3):
        self.set_line = set_line
        self.events = events
        self.delay = delay
        self.fired = 0
        self.high = False
        self.countdown = delay
        self.acks = 0

    def tick(self) -> None:
        if self.high or self.fired == self.events:
            return
        self.countdown -= 1
        if self.countdown <= 0:
            self.high = True
            self.fired += 1
            self.set_line(True)

    def ack(self) -> None:
        self.acks += 1
        self.high = False
        self.countdown = self.delay
        self.set_line(False)


class DeviceBus:
    """Mmio wrapper: the device advances once per poll while the CPU waits or idles."""

    def __init__(self, inner, device: Device, polls: int = 200):
        self.inner = inner
        self.device = device
        self.polls = polls

    async def read(self, addr, width=32):
        return await self.inner.read(addr, width)

    async def write(self, addr, value, width=32):
        await self.inner.write(addr, value, width)

    async def wait_irq(self, line):
        for _ in range(self.polls):
            self.device.tick()
            try:
                await self.inner.wait_irq(line)
                return
            except TimeoutError:
                pass
        raise TimeoutError(f"no interrupt on {line}")

    async def idle(self, cycles=1):
        self.device.tick()
        await self.inner.idle(cycles)


def atsintc_executor(events, *, delay=3, notify=True, **kwargs):
    m = model(**kwargs)

    def set_line(high):
        m.set_lines(m.lines | bit(LINE) if high else m.lines & ~bit(LINE))

    device = Device(set_line, events, delay)
    mmio = DeviceBus(TransactionMmio(m, BASE, irq=lambda: m.notify, irq_timeout=1), device)
    backend = AtsIntcBackend(AtsIntcDriver(mmio, BASE, m.config), process=1, hart=HART,
                             notify=notify)
    return m, device, backend, Executor(backend)


def plic_executor(events, *, delay=3):
    m = PLICModel(PLICConfig())

    def set_line(high):
        m.lines = m.lines | bit(LINE) if high else m.lines & ~bit(LINE)

    device = Device(set_line, events, delay)
    mmio = DeviceBus(ModelMmio(m, m.config.base, irq_timeout=2), device)
    plic = PlicDriver(mmio, m.config.base, m.config.sources, m.config.contexts)
    backend = PlicBackend(plic, PLIC_CONTEXT)
    return m, device, backend, Executor(backend)


async def interrupt_app(ex, device, n, log):
    """The application: a task that waits for the device's interrupt ``n`` times."""
    for i in range(n):
        await ex.wait_interrupt(LINE)
        log.append(("irq", i, device.fired))
        device.ack()
    return n


async def background(ex, log, name, steps):
    for i in range(steps):
        log.append((name, i))
        await ex.yield_now()


def run_app(make, events=4):
    _, device, backend, ex = make(events)
    log = []

    async def scenario():
        await backend.setup()
        app = await ex.spawn(interrupt_app(ex, device, events, log), 2)
        await ex.spawn(background(ex, log, "bg", 2), 3)
        await ex.run()
        return app

    app = run(scenario())
    return ex, device, log, app


@pytest.mark.parametrize("make", [atsintc_executor, plic_executor], ids=["atsintc", "plic"])
def test_the_same_app_runs_on_both_backends(make):
    ex, device, log, app = run_app(make)
    assert [entry for entry in log if entry[0] == "irq"] == [("irq", i, i + 1) for i in range(4)]
    assert ex.results[app] == 4 and device.acks == 4 and not ex.tasks
    assert len(ex.wakeups) == 4 and all(w.line == LINE for w in ex.wakeups)


def test_both_backends_give_the_same_trace():
    traces = [run_app(make)[2] for make in (atsintc_executor, plic_executor)]
    assert traces[0] == traces[1]


def test_wakeup_access_counts():
    ats, *_ = run_app(atsintc_executor)
    plic, *_ = run_app(plic_executor)
    # ATSINTC: the handler is the fetched word (1 read); then it re-registers (intr_push) and the
    # executor's empty fetch puts it to sleep. PLIC: claim (1 read) runs the task; complete;
    # the chained handler's last claim returns 0.
    for w in ats.wakeups:
        assert w.to_run.reads == 1 and w.to_run.writes == 0
    for w in plic.wakeups:
        assert w.to_run.reads == 1 and w.to_run.writes == 0
    assert [w.busy.total for w in ats.wakeups[:-1]] == [3] * 3     # fetch, intr_push, fetch
    assert [w.busy.total for w in plic.wakeups[:-1]] == [3] * 3    # claim, complete, claim


def test_tasks_run_in_priority_order_fifo_within_a_level():
    for make in (atsintc_executor, plic_executor):
        _, _, backend, ex = make(0)
        log = []

        async def worker(name):
            log.append(name)
            await ex.yield_now()
            log.append(name + "'")

        async def scenario():
            for name, prio in (("c", 3), ("a", 1), ("d", 3), ("b", 1)):
                await ex.spawn(worker(name), prio)
            await ex.run()

        run(scenario())
        assert log == ["a", "b", "a'", "b'", "c", "d", "c'", "d'"], make.__name__


def test_suspend_and_wake():
    _, _, backend, ex = atsintc_executor(0)
    log = []

    async def sleeper():
        log.append("sleep")
        await ex.suspend()
        log.append("woken")

    async def waker(ref):
        log.append("wake")
        await ex.wake(ref)
        await ex.wake(ref)                          # already ready: queued once
        log.append("done")

    async def scenario():
        s = await ex.spawn(sleeper(), 1)
        await ex.spawn(waker(s), 2)
        await ex.run()

    run(scenario())
    assert log == ["sleep", "wake", "done", "woken"]


@pytest.mark.parametrize("make", [atsintc_executor, plic_executor], ids=["atsintc", "plic"])
def test_interrupt_before_the_task_waits_is_not_lost(make):
    m, device, backend, ex = make(1, delay=1)
    log = []

    async def late():
        for _ in range(5):
            await ex.yield_now()                    # the device fires meanwhile
        await ex.wait_interrupt(LINE)
        log.append(device.fired)
        device.ack()

    async def scenario():
        await backend.setup()
        await backend.enable(LINE)
        device.tick()                               # fires before anyone waits
        await backend.counter.idle(4)
        await ex.spawn(late())
        await ex.run()

    run(scenario())
    assert log == [1] and device.acks == 1


def test_plic_backend_keeps_a_source_claimed_before_its_handler_registers():
    m, device, backend, ex = plic_executor(1, delay=1)
    log = []

    async def late():
        await ex.wait_interrupt(LINE)
        log.append(device.fired)
        device.ack()

    async def scenario():
        await backend.setup()
        await backend.enable(LINE)
        await backend.wait()                        # claimed with no handler: not completed
        assert backend.unhandled == {LINE} and not m.armed & bit(LINE)
        await ex.spawn(late())
        await ex.run()                              # delivered at registration, then completed
        await backend.counter.idle(3)

    run(scenario())
    assert log == [1] and backend.unhandled == set()
    assert m.armed & bit(LINE) and not m.ip & bit(LINE)


async def _noop():
    return None


def test_irq_handler_task_with_a_device_callback():
    m, device, backend, ex = atsintc_executor(3)

    async def scenario():
        await backend.setup()
        await ex.spawn_irq_handler(LINE, device.ack)
        await ex.run(until=lambda: device.acks == 3)

    run(scenario())
    assert device.acks == 3
    handler = next(iter(ex.tasks.values()))
    assert handler.daemon and handler.state is TaskState.IRQ_WAIT   # registered again
    assert len(ex.wakeups) == 3


def test_polling_instead_of_the_notify_line():
    m, device, backend, ex = atsintc_executor(2, notify=False)
    log = []

    async def scenario():
        await backend.setup()
        await ex.spawn(interrupt_app(ex, device, 2, log))
        await ex.run()

    run(scenario())
    assert [e[1] for e in log] == [0, 1] and m.notify_ctrl[1] == 0


def test_refused_registration_is_raised_in_the_task():
    m, device, backend, ex = atsintc_executor(0, irq_queue_depth=1)
    seen = []

    async def waiter():
        await ex.wait_interrupt(LINE)

    async def second():
        try:
            await ex.wait_interrupt(LINE)
        except drv.IrqQueueFull as err:
            seen.append(err.cause)

    async def scenario():
        await ex.spawn(waiter(), daemon=True)
        await ex.spawn(second())
        await ex.run()

    run(scenario())
    assert seen == ["irq_queue_full"]


def test_task_exceptions_propagate():
    _, _, backend, ex = plic_executor(0)

    async def failing():
        raise RuntimeError("boom")

    async def scenario():
        await ex.spawn(failing())
        await ex.run()

    with pytest.raises(RuntimeError, match="boom"):
        run(scenario())


def test_dma_completion_tokens_reach_the_token_handler():
    m, device, backend, ex = atsintc_executor(0)
    completed = []
    ex.token_handler = completed.append
    descriptors = [0x8000_0000 + 64 * k for k in range(3)]
    log = []

    async def app():
        log.append("app")

    async def scenario():
        await backend.setup()
        await ex.spawn(app(), 2)
        for d in descriptors:
            assert m.stream_push(1, 1, d | 1) == "stored"    # the DMA's completions
        await ex.run()

    run(scenario())
    assert completed == descriptors and log == ["app"]
    assert is_token(descriptors[0] | 1) and not is_token(0x10)


def test_unexpected_words_are_reported():
    m, device, backend, ex = atsintc_executor(0)

    async def scenario(word):
        m.stream_push(1, 0, word)
        await ex.spawn(_noop())
        await ex.run()

    with pytest.raises(UnexpectedWord):
        run(scenario(0x4001))                       # a token, no token handler
    ex.close()
    m.reset()
    with pytest.raises(UnexpectedWord):
        run(scenario(0x4000))                       # not a task
    ex.close()
    assert not ex.tasks


def test_task_references_are_aligned_non_zero_and_distinct():
    _, _, _, ex = atsintc_executor(0)
    refs = [ex.new_task(_noop()).ref for _ in range(10)]
    assert len(set(refs)) == 10
    assert all(r and r % TASK_ALIGN == 0 and not is_token(r) and r < 1 << 64 for r in refs)
    for task in list(ex.tasks.values()):
        task.coro.close()


def test_counting_mmio():
    m = model()
    counter = CountingMmio(TransactionMmio(m, BASE))

    async def scenario():
        await counter.write(BASE + R.enqueue(0, 0), 0x10, 64)
        await counter.read(BASE + R.dequeue(0), 64)
        await counter.idle()

    run(scenario())
    assert (counter.reads, counter.writes, counter.accesses.total) == (1, 1, 2)


def test_other_awaitables_pass_through_to_the_event_loop():
    """What a task awaits that is not an executor command (an asyncio future here, a cocotb
    trigger on the RTL) is handled by the event loop the executor runs in."""
    _, _, backend, ex = atsintc_executor(0)
    log = []

    async def sleeper():
        await asyncio.sleep(0)
        log.append(await asyncio.wait_for(asyncio.sleep(0.001, result="slept"), 1))
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_exception, KeyError("into the task"))
        try:
            await future
        except KeyError:
            log.append("raised")

    async def scenario():
        await ex.spawn(sleeper())
        await ex.run()

    run(scenario())
    assert log == ["slept", "raised"]
