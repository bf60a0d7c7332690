"""The PLIC part of the reference driver: the register sequences of xv6 and Linux.

The sequences mirror the real drivers access by access (driver.md, "Drivers"), so that a scenario
exercises the hardware the way those operating systems do:

* xv6-riscv ``kernel/plic.c``: ``plicinit``, ``plicinithart``, ``plic_claim``, ``plic_complete``
  (S-mode context of hart h is context ``2*h + 1``, as on QEMU ``virt``);
* Linux ``drivers/irqchip/irq-sifive-plic.c``: per-context set-up, enable/disable by a
  read-modify-write of the enable word (``plic_toggle``), mask/unmask by priority 0/1,
  ``plic_irq_eoi`` and the chained handler ``while ((hwirq = readl(claim))) { handle; eoi; }``.

Addresses come from the generated constants module :mod:`atsoc.sim.driver.regs.plic`; accesses go
through :class:`~atsoc.sim.driver.mmio.Mmio` only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

from .mmio import Mmio
from .regs import plic as regs


__all__ = ["PlicDriver", "InterruptStorm"]


class InterruptStorm(RuntimeError):
    """The chained handler claimed more interrupts in one call than its limit allows."""


class PlicDriver:
    """Drive a PLIC through :class:`Mmio` with xv6's and Linux's register sequences.

    Parameters
    ----------
    mmio : Mmio
        The bus.
    base : int
        Bus address of the PLIC.
    nsources : int
        Number of interrupt sources (IDs 1..nsources), as a device tree's ``riscv,ndev``.
    ncontexts : int
        Number of contexts.
    """

    def __init__(self, mmio: Mmio, base: int, nsources: int, ncontexts: int):
        self.mmio = mmio
        self.base = base
        self.nsources = nsources
        self.ncontexts = ncontexts

    # -- raw register access ---------------------------------------------------------------------

    async def _read(self, offset: int) -> int:
        return await self.mmio.read(self.base + offset)

    async def _write(self, offset: int, value: int) -> None:
        await self.mmio.write(self.base + offset, value)

    def _check_irq(self, irq: int) -> None:
        if not 1 <= irq <= self.nsources:
            raise ValueError(f"interrupt {irq} is not a source ID 1..{self.nsources}")

    def _check_context(self, context: int) -> None:
        if not 0 <= context < self.ncontexts:
            raise ValueError(f"context {context} is not 0..{self.ncontexts - 1}")

    # -- xv6 (kernel/plic.c) ---------------------------------------------------------------------

    @staticmethod
    def s_mode_context(hart: int) -> int:
        """Context of ``hart`` in S-mode on QEMU ``virt`` (plic.md, "Register map")."""
        return 2 * hart + 1

    async def xv6_plicinit(self, irqs: Iterable[int]) -> None:
        """``plicinit``: priority 1 for each IRQ, in the given order ("otherwise disabled")."""
        for irq in irqs:
            self._check_irq(irq)
            await self._write(regs.priority(irq), 1)

    async def xv6_plicinithart(self, hart: int, irqs: Iterable[int]) -> None:
        """``plicinithart``: one 32-bit store of the S-mode enable word, then threshold 0.

        xv6 writes enable word 0 only (its IRQs are below 32); IRQs of higher words get one
        store per word, in word order.
        """
        context = self.s_mode_context(hart)
        self._check_context(context)
        words: dict[int, int] = {0: 0}
        for irq in irqs:
            self._check_irq(irq)
            words[irq // 32] = words.get(irq // 32, 0) | 1 << (irq % 32)
        for word in sorted(words):
            await self._write(regs.enable(context, word), words[word])
        await self._write(regs.threshold(context), 0)

    async def xv6_claim(self, hart: int) -> int:
        """``plic_claim``: read the S-mode claim register; 0 when nothing is pending."""
        context = self.s_mode_context(hart)
        self._check_context(context)
        return await self._read(regs.claim(context))

    async def xv6_complete(self, hart: int, irq: int) -> None:
        """``plic_complete``: write the IRQ back to the S-mode claim/complete register."""
        context = self.s_mode_context(hart)
        self._check_context(context)
        await self._write(regs.claim(context), irq)

    # -- Linux (drivers/irqchip/irq-sifive-plic.c) -----------------------------------------------

    async def linux_init_context(self, context: int, threshold: int = 0) -> None:
        """Per-context set-up of the probe loop.

        Threshold first (0 for a context Linux handles; Linux writes ``0xffffffff`` to a context
        it ignores, such as the M-mode context of a hart it already has), then for every source
        in ID order: disable it for the context (``plic_toggle(handler, hwirq, 0)``, a
        read-modify-write of its enable word) and set its priority to 1, interleaved as in the
        probe loop. (Recent kernels write the handled context's threshold from
        ``plic_starting_cpu``, after the loop; the order here is plic.md's test plan.)
        """
        self._check_context(context)
        await self._write(regs.threshold(context), threshold)
        for irq in range(1, self.nsources + 1):
            await self.linux_toggle(context, irq, False)
            await self._write(regs.priority(irq), 1)

    async def linux_toggle(self, context: int, irq: int, enable: bool) -> None:
        """``__plic_toggle``: set or clear one bit of the enable word (read-modify-write)."""
        self._check_context(context)
        self._check_irq(irq)
        offset = regs.enable(context, irq // 32)
        bit = 1 << (irq % 32)
        word = await self._read(offset)
        await self._write(offset, word | bit if enable else word & ~bit)

    async def linux_enable(self, context: int, irq: int) -> None:
        """``plic_irq_enable`` for an affinity of one context."""
        await self.linux_toggle(context, irq, True)

    async def linux_disable(self, context: int, irq: int) -> None:
        """``plic_irq_disable`` for an affinity of one context."""
        await self.linux_toggle(context, irq, False)

    async def linux_mask(self, irq: int) -> None:
        """``plic_irq_mask``: priority 0, so the source never interrupts nor is claimed."""
        self._check_irq(irq)
        await self._write(regs.priority(irq), 0)

    async def linux_unmask(self, irq: int) -> None:
        """``plic_irq_unmask``: priority 1."""
        self._check_irq(irq)
        await self._write(regs.priority(irq), 1)

    async def linux_claim(self, context: int) -> int:
        """``readl(claim)`` of the chained handler."""
        self._check_context(context)
        return await self._read(regs.claim(context))

    async def linux_eoi(self, context: int, irq: int, disabled: bool = False) -> None:
        """``plic_irq_eoi``: write the ID to claim/complete.

        A completion of a source not enabled for the context is ignored by the PLIC, so Linux
        enables a disabled IRQ around the write (commit 69ea463021be).
        """
        self._check_context(context)
        if disabled:
            await self.linux_toggle(context, irq, True)
            await self._write(regs.claim(context), irq)
            await self.linux_toggle(context, irq, False)
        else:
            await self._write(regs.claim(context), irq)

    async def linux_handle(self, context: int, handler: Callable[[int], object],
                           limit: int = 10_000) -> list[int]:
        """``plic_handle_irq``: ``while (id = claim) { handler(id); eoi(id); }``.

        Parameters
        ----------
        handler : callable
            Called with each claimed ID (a coroutine function is awaited); the device's handler,
            which typically lowers the device's interrupt line.
        limit : int
            Claims allowed in one call before :class:`InterruptStorm` is raised.

        Returns
        -------
        list of int
            The IDs handled, in claim order.
        """
        handled = []
        while irq := await self.linux_claim(context):
            if len(handled) == limit:
                raise InterruptStorm(f"more than {limit} interrupts claimed on context {context}")
            result = handler(irq)
            if inspect.isawaitable(result):
                await result
            await self.linux_eoi(context, irq)
            handled.append(irq)
        return handled
