"""Interrupt coalescing of one channel (PG021 v7.1, DMACR IRQThreshold/IRQDelay, DMASR
IRQThresholdSts/IRQDelaySts).

* Threshold counter: starts at IRQThreshold; each completed packet (its status write-back
  acknowledged) decrements it; when it would reach 0 the channel raises IOC_Irq and the counter
  reloads from IRQThreshold. A write of the IRQThreshold byte reloads it as well.
* Delay timer: with IRQDelay != 0, every completed packet that does not expire the threshold
  (re)starts the timer from 0; it counts in units of 125 clock cycles and at IRQDelay raises
  Dly_Irq, stops, and reloads the threshold counter (the pending packets were reported). A
  packet that expires the threshold stops the timer.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


__all__ = ["InterruptCoalescer", "DELAY_UNIT_CYCLES"]

#: PG021: the delay timer counts in units of 125 clock cycles.
DELAY_UNIT_CYCLES = 125


class InterruptCoalescer(wiring.Component):
    """Threshold counter and delay timer of one channel.

    Attributes
    ----------
    threshold, delay : In(8)
        DMACR IRQThreshold (never 0) and IRQDelay.
    threshold_we : In(1)
        The IRQThreshold byte was written (reload the counter).
    packet_done : In(1)
        A packet completed (pulse).
    ioc, dly : Out(1)
        One-cycle pulses that set IOC_Irq / Dly_Irq.
    threshold_count, delay_count : Out(8)
        The counters shown in DMASR.
    """

    def __init__(self):
        super().__init__({
            "threshold": In(8), "delay": In(8), "threshold_we": In(1), "packet_done": In(1),
            "ioc": Out(1), "dly": Out(1),
            "threshold_count": Out(8, init=1), "delay_count": Out(8),
        })

    def elaborate(self, platform):
        m = Module()
        running = Signal()
        prescale = Signal(range(DELAY_UNIT_CYCLES))
        m.d.sync += [self.ioc.eq(0), self.dly.eq(0)]

        with m.If(self.packet_done):
            with m.If(self.threshold_count <= 1):
                m.d.sync += [self.ioc.eq(1), self.threshold_count.eq(self.threshold),
                             running.eq(0), self.delay_count.eq(0)]
            with m.Else():
                m.d.sync += [self.threshold_count.eq(self.threshold_count - 1),
                             running.eq(self.delay != 0), prescale.eq(0), self.delay_count.eq(0)]
        with m.Elif(running):
            with m.If(self.delay == 0):
                m.d.sync += [running.eq(0), self.delay_count.eq(0)]
            with m.Elif(prescale == DELAY_UNIT_CYCLES - 1):
                m.d.sync += prescale.eq(0)
                with m.If(self.delay_count + 1 >= self.delay):
                    m.d.sync += [self.dly.eq(1), running.eq(0), self.delay_count.eq(0),
                                 self.threshold_count.eq(self.threshold)]
                with m.Else():
                    m.d.sync += self.delay_count.eq(self.delay_count + 1)
            with m.Else():
                m.d.sync += prescale.eq(prescale + 1)
        with m.If(self.threshold_we & ~self.packet_done):
            m.d.sync += self.threshold_count.eq(self.threshold)
        return m
