"""An async executor in the style of the ats-intc crate, with two scheduling back-ends.

driver.md, "Shape": tasks are Python coroutines identified by 64-bit references; the ready queue
is either the ATSINTC's hardware queues (:class:`AtsIntcBackend`: spawn is ``ps_push``, the run
loop is ``ps_fetch``, interrupt handlers are tasks registered with ``intr_push``) or a software
priority queue woken from PLIC claim/complete (:class:`PlicBackend`). One application runs on
either; each back-end counts the Mmio accesses it makes (:attr:`Executor.wakeups`), which is what
the wake-up benchmark compares.

Words in the ready queue (shared/spec/atsintc.md, "DMA completions through the queue"):

* a task reference: a non-zero, 16-byte aligned handle (:data:`TASK_BASE` + 16*n, bit 0 clear);
* a completion token: a DMA descriptor's address (64-byte aligned) with bit 0 set
  (:data:`TOKEN_BIT`), delivered to the executor's token handler with the bit cleared.

A task awaits :meth:`Executor.wait_interrupt` to become the handler of an interrupt line: on the
ATSINTC its own reference is registered with ``intr_push`` each time it waits (it re-registers
itself after handling the device, as the ArceOS drivers do) and the hardware moves it to level 0;
on the PLIC the back-end claims the source, runs the task at once and completes the source.
Anything else a task awaits (an Mmio access on the RTL, an asyncio future) is passed through to
the event loop the executor runs in.
"""

from __future__ import annotations

import copy
import enum
import inspect
import itertools
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass


__all__ = [
    "Executor", "Task", "TaskState", "AtsIntcBackend", "PlicBackend", "CountingMmio", "Accesses",
    "Wakeup", "UnexpectedWord", "TASK_BASE", "TASK_ALIGN", "TOKEN_BIT", "is_token",
]

#: First task reference (looks like a kernel heap address; bit 0 clear).
TASK_BASE = 0xFFFF_FFC0_0010_0000
#: Alignment of task references.
TASK_ALIGN = 16
#: Bit 0 of a ready-queue word marks a DMA completion token (descriptors are 64-byte aligned).
TOKEN_BIT = 1
#: Default priority of spawned tasks; interrupt wakes arrive at level 0.
DEFAULT_PRIORITY = 1


def is_token(word: int) -> bool:
    """Whether a ready-queue word is a completion token rather than a task reference."""
    return bool(word & TOKEN_BIT)


class UnexpectedWord(RuntimeError):
    """The ready queue returned a word that is neither a live task nor a handled token."""


# -- counting ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Accesses:
    """Mmio reads and writes."""

    reads: int = 0
    writes: int = 0

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def __sub__(self, other: Accesses) -> Accesses:
        return Accesses(self.reads - other.reads, self.writes - other.writes)


class CountingMmio:
    """An :class:`~atsoc.sim.driver.mmio.Mmio` that counts the accesses passed to ``inner``.

    ``wait_irq`` and ``idle`` (when ``inner`` has it) are passed through and not counted.
    """

    def __init__(self, inner):
        self.inner = inner
        self.reads = 0
        self.writes = 0

    @property
    def accesses(self) -> Accesses:
        return Accesses(self.reads, self.writes)

    async def read(self, addr: int, width: int = 32) -> int:
        self.reads += 1
        return await self.inner.read(addr, width)

    async def write(self, addr: int, value: int, width: int = 32) -> None:
        self.writes += 1
        await self.inner.write(addr, value, width)

    async def wait_irq(self, line: int) -> None:
        await self.inner.wait_irq(line)

    async def idle(self, cycles: int = 1) -> None:
        idle = getattr(self.inner, "idle", None)
        if idle is not None:
            await idle(cycles)


def _counting_view(driver):
    """A shallow copy of ``driver`` whose ``mmio`` counts its accesses."""
    view = copy.copy(driver)
    view.mmio = CountingMmio(driver.mmio)
    return view


@dataclass
class Wakeup:
    """One interrupt delivered to its handler task.

    Attributes
    ----------
    line : int
        The interrupt line (PLIC source ID on the PLIC back-end).
    to_run : Accesses
        Accesses from the executor's wake (notification or EIP seen) to the handler task
        running: the wake-up path.
    busy : Accesses or None
        Accesses from the wake to the executor's next sleep (the whole busy period, including
        the handler's re-registration or completion and the final empty fetch or claim).
    from_idle : bool
        Whether this is the first wake-up of its busy period, so that ``to_run`` is the wake-up
        path alone (otherwise it also counts the work done before the handler's turn).
    """

    line: int
    to_run: Accesses
    busy: Accesses | None = None
    from_idle: bool = True


# -- tasks ---------------------------------------------------------------------------------------

class TaskState(enum.Enum):
    READY = "ready"            # in the ready queue
    RUNNING = "running"
    SUSPENDED = "suspended"    # waits for Executor.wake
    IRQ_WAIT = "irq_wait"      # registered as an interrupt handler
    DONE = "done"


@dataclass(eq=False)
class Task:
    """A coroutine, its reference and its scheduling state."""

    ref: int
    coro: Coroutine
    priority: int
    name: str
    daemon: bool = False
    state: TaskState = TaskState.SUSPENDED
    line: int | None = None
    result: object = None


class _Command:
    """An executor request a task awaits (the executor, not the event loop, handles it)."""

    def __await__(self):
        return (yield self)


class _Suspend(_Command):
    pass


class _Yield(_Command):
    pass


@dataclass
class _WaitInterrupt(_Command):
    line: int


class _Forward:
    """Pass an object a task yielded (an event loop's future or trigger) up to the event loop."""

    def __init__(self, obj):
        self.obj = obj

    def __await__(self):
        return (yield self.obj)


# -- the executor --------------------------------------------------------------------------------

class Executor:
    """Run coroutine tasks from a back-end's ready queue.

    Parameters
    ----------
    backend : AtsIntcBackend or PlicBackend
        Where ready tasks wait and where interrupts come from.
    token_handler : callable, optional
        Called (awaited if it returns an awaitable) with the descriptor address of every DMA
        completion token popped from the ready queue.

    Attributes
    ----------
    tasks : dict of int to Task
        Live tasks by reference.
    results : dict of int to object
        Return values of finished tasks.
    wakeups : list of Wakeup
        Every interrupt delivered to a handler task, with its Mmio accesses.
    """

    def __init__(self, backend, *, token_handler: Callable[[int], object] | None = None):
        self.backend = backend
        self.token_handler = token_handler
        self.tasks: dict[int, Task] = {}
        self.results: dict[int, object] = {}
        self.wakeups: list[Wakeup] = []
        self.current: Task | None = None
        self._refs = itertools.count()
        self._mark: Accesses | None = None      # accesses when the executor last woke up
        self._open: list[Wakeup] = []           # wake-ups of the current busy period
        backend.bind(self)

    # -- task management -----------------------------------------------------------------------

    def new_task(self, coro: Coroutine, priority: int = DEFAULT_PRIORITY, *, name: str | None = None,
                 daemon: bool = False) -> Task:
        """Allocate a reference for ``coro`` without making it ready."""
        if not inspect.iscoroutine(coro):
            raise TypeError(f"a task is a coroutine, not {coro!r}")
        ref = TASK_BASE + TASK_ALIGN * next(self._refs)
        task = Task(ref, coro, priority, name or coro.__qualname__, daemon)
        self.tasks[ref] = task
        return task

    async def spawn(self, coro: Coroutine, priority: int = DEFAULT_PRIORITY, *,
                    name: str | None = None, daemon: bool = False) -> int:
        """Create a task and make it ready (``ps_push`` on the ATSINTC); its reference."""
        task = self.new_task(coro, priority, name=name, daemon=daemon)
        await self.wake(task.ref)
        return task.ref

    async def spawn_irq_handler(self, line: int, callback: Callable[[], object], *,
                                name: str | None = None) -> int:
        """Spawn a daemon task that handles interrupt ``line`` for ever: wait for the interrupt,
        call ``callback`` (the device's handler, which clears the device; awaited when it
        returns an awaitable), register again."""
        async def handler():
            while True:
                await self.wait_interrupt(line)
                outcome = callback()
                if inspect.isawaitable(outcome):
                    await outcome

        return await self.spawn(handler(), 0, name=name or f"irq{line}", daemon=True)

    async def wake(self, ref: int) -> None:
        """Make a suspended (or the running) task ready; a ready task stays queued once."""
        task = self.tasks[ref]
        if task.state is TaskState.IRQ_WAIT:
            raise ValueError(f"task {task.name} waits for interrupt {task.line}: the hardware wakes it")
        if task.state in (TaskState.READY, TaskState.DONE):
            return
        task.state = TaskState.READY
        await self.backend.push(ref, task.priority)

    # -- what tasks await ------------------------------------------------------------------------

    @staticmethod
    def suspend() -> _Command:
        """Await in a task: park it until :meth:`wake` names it."""
        return _Suspend()

    @staticmethod
    def yield_now() -> _Command:
        """Await in a task: go to the back of its level of the ready queue."""
        return _Yield()

    @staticmethod
    def wait_interrupt(line: int) -> _Command:
        """Await in a task: register it as a handler of interrupt ``line`` and sleep until the
        interrupt is delivered to it (at once if one is pending). A refused registration (for
        example ``IrqQueueFull``) is raised in the task."""
        return _WaitInterrupt(line)

    # -- running ---------------------------------------------------------------------------------

    def _unfinished(self) -> bool:
        return any(not task.daemon for task in self.tasks.values())

    async def run(self, until: Callable[[], bool] | None = None) -> None:
        """Run ready tasks; sleep on the back-end when there are none.

        Parameters
        ----------
        until : callable, optional
            Stop condition, checked before each fetch; by default, every non-daemon task done.

        Raises
        ------
        Exception
            Whatever a task raises, and the back-end's :class:`TimeoutError` when it waits for
            an interrupt that never comes.
        """
        done = until or (lambda: not self._unfinished())
        self._mark = self.backend.accesses
        while not done():
            word = await self.backend.fetch()
            if word == 0:
                self._close_busy_period()
                await self.backend.wait()
                continue
            await self._dispatch(word)
        self._close_busy_period()

    def _woke(self) -> None:
        """The back-end saw its wake-up signal: start counting a busy period."""
        self._close_busy_period()
        self._mark = self.backend.accesses

    def _close_busy_period(self) -> None:
        for wakeup in self._open:
            wakeup.busy = self.backend.accesses - self._mark
        self._open.clear()

    async def _dispatch(self, word: int) -> None:
        if is_token(word):
            if self.token_handler is None:
                raise UnexpectedWord(f"completion token {word:#x} with no token handler")
            outcome = self.token_handler(word & ~TOKEN_BIT)
            if inspect.isawaitable(outcome):
                await outcome
            return
        task = self.tasks.get(word)
        if task is None:
            raise UnexpectedWord(f"ready-queue word {word:#x} is not a live task")
        await self.resume(task)

    async def resume(self, task: Task) -> None:
        """Run ``task`` until it awaits an executor command or finishes (back-ends call this
        for the tasks they wake)."""
        if task.state is TaskState.IRQ_WAIT:
            self._record_wakeup(task.line)
        task.state, task.line = TaskState.RUNNING, None
        self.current = task
        try:
            await self._step(task)
        finally:
            self.current = None
        await self.backend.after_step(task)

    def _record_wakeup(self, line: int) -> None:
        first = not self._open                      # the first wake of this busy period
        wakeup = Wakeup(line, self.backend.accesses - self._mark, from_idle=first)
        self.wakeups.append(wakeup)
        self._open.append(wakeup)

    async def _step(self, task: Task) -> None:
        value, error = None, None
        while True:
            try:
                yielded = task.coro.throw(error) if error is not None else task.coro.send(value)
            except StopIteration as stop:
                self._finish(task, stop.value)
                return
            except BaseException:
                self._finish(task, None)
                raise
            value, error = None, None
            if not isinstance(yielded, _Command):
                try:
                    value = await _Forward(yielded)
                except Exception as exc:           # the event loop's answer: into the task
                    error = exc
                continue
            try:
                await self._command(task, yielded)
                return                             # the task gave up the processor
            except Exception as exc:               # a refused registration: into the task
                task.state, task.line = TaskState.RUNNING, None
                error = exc

    async def _command(self, task: Task, command: _Command) -> None:
        """Carry out ``command`` for ``task``, which gives up the processor."""
        if isinstance(command, _WaitInterrupt):
            task.state, task.line = TaskState.IRQ_WAIT, command.line
            await self.backend.arm_interrupt(task, command.line)
        elif task.state is TaskState.READY:        # woken while running: already queued
            pass
        elif isinstance(command, _Yield):
            await self.wake(task.ref)
        else:
            task.state = TaskState.SUSPENDED

    def close(self) -> None:
        """Close the coroutines of every live task (after a failed :meth:`run`, for example)."""
        for task in self.tasks.values():
            task.coro.close()
            task.state = TaskState.DONE
        self.tasks.clear()

    def _finish(self, task: Task, result) -> None:
        task.state, task.result = TaskState.DONE, result
        self.results[task.ref] = result
        del self.tasks[task.ref]


# -- back-ends -----------------------------------------------------------------------------------

class _Backend:
    """What both back-ends share: a counting view of their driver and the executor they serve."""

    executor: Executor
    counter: CountingMmio

    def bind(self, executor: Executor) -> None:
        self.executor = executor

    @property
    def accesses(self) -> Accesses:
        """Mmio accesses this back-end has made so far."""
        return self.counter.accesses

    async def after_step(self, task: Task) -> None:
        """Called after each run of a task."""

    async def enable(self, line: int) -> None:
        """Let interrupt ``line`` through (``request_irq``); done by the first wait too."""


class AtsIntcBackend(_Backend):
    """The ATSINTC's queues of one process are the ready queue.

    Parameters
    ----------
    driver : AtsIntcDriver
        The ATSINTC driver (its accesses are counted through a copy of it).
    process : int
        The process slot the executor runs in.
    hart : int
        The ``notify`` bit the executor sleeps on.
    notify : bool
        Sleep on ``notify[hart]`` (enabled by :meth:`setup`); otherwise poll with ``ps_fetch``.
    poll_limit : int
        Empty polls in a row before :class:`TimeoutError`, when polling.
    """

    def __init__(self, driver, process: int, *, hart: int = 0, notify: bool = True,
                 poll_limit: int = 10_000):
        self.driver = _counting_view(driver)
        self.counter = self.driver.mmio
        self.process = process
        self.hart = hart
        self.notify = notify
        self.poll_limit = poll_limit
        self._polls = 0

    async def setup(self) -> None:
        """Bind the process's notification to the hart (when sleeping on ``notify``)."""
        await self.driver.notify_enable(self.process, self.hart, self.notify)

    async def push(self, ref: int, priority: int) -> None:
        await self.driver.ps_push(self.process, ref, priority)

    async def fetch(self) -> int:
        word = await self.driver.ps_fetch(self.process)
        if word:
            self._polls = 0
        return word

    async def arm_interrupt(self, task: Task, line: int) -> None:
        await self.driver.intr_push(self.process, line, task.ref)

    async def wait(self) -> None:
        """Sleep until the notification rises (or, polling, let time pass)."""
        if self.notify:
            await self.counter.wait_irq(self.hart)
        else:
            self._polls += 1
            if self._polls > self.poll_limit:
                raise TimeoutError(f"nothing ready after {self.poll_limit} polls")
            await self.counter.idle()
        self.executor._woke()


class PlicBackend(_Backend):
    """A software priority queue, woken from PLIC claim/complete (Linux's chained handler).

    Parameters
    ----------
    plic : PlicDriver
        The PLIC driver (its accesses are counted through a copy of it).
    context : int
        The PLIC context whose EIP the executor sleeps on and whose claim register it uses.
    priorities : int
        Levels of the software ready queue (0 is the highest).
    """

    def __init__(self, plic, context: int, *, priorities: int = 8):
        self.plic = _counting_view(plic)
        self.counter = self.plic.mmio
        self.context = context
        self.ready = [deque() for _ in range(priorities)]
        self.handlers: dict[int, deque[Task]] = {}
        self.enabled: set[int] = set()
        self.unhandled: set[int] = set()            # claimed with no handler: not completed yet
        self._owed: dict[int, int] = {}             # task ref -> source to complete after its run

    async def setup(self) -> None:
        """Linux's per-context set-up (threshold 0, every source disabled, priority 1)."""
        await self.plic.linux_init_context(self.context)

    async def push(self, ref: int, priority: int) -> None:
        self.ready[min(priority, len(self.ready) - 1)].append(ref)

    async def fetch(self) -> int:
        for level in self.ready:
            if level:
                return level.popleft()
        return 0

    async def arm_interrupt(self, task: Task, line: int) -> None:
        """Make ``task`` the handler of source ``line`` (enabling the source the first time);
        a source claimed while it had no handler is delivered now."""
        await self.enable(line)
        if line in self.unhandled:
            self.unhandled.discard(line)
            self._owed[task.ref] = line
            await self.push(task.ref, 0)
            return
        self.handlers.setdefault(line, deque()).append(task)

    async def enable(self, line: int) -> None:
        """Enable source ``line`` for the context (Linux ``plic_irq_enable``), once."""
        if line not in self.enabled:
            await self.plic.linux_enable(self.context, line)
            self.enabled.add(line)

    async def wait(self) -> None:
        """Sleep until EIP, then ``while (id = claim) { run its handler task; complete }``."""
        await self.counter.wait_irq(self.context)
        self.executor._woke()
        while source := await self.plic.linux_claim(self.context):
            waiting = self.handlers.get(source)
            if not waiting:
                self.unhandled.add(source)         # the gateway stays closed until it is handled
                continue
            await self.executor.resume(waiting.popleft())
            await self.plic.linux_eoi(self.context, source)

    async def after_step(self, task: Task) -> None:
        source = self._owed.pop(task.ref, None)
        if source is not None:
            await self.plic.linux_eoi(self.context, source)
