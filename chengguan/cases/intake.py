"""Group commit: reports that arrive at the same moment share one transaction.

A report's own work (checks, the grid cells of its point, its deadline on the working
calendar) is cheap; the transaction around it is not: the day counter's row lock, three
INSERTs built by the ORM and COMMIT's flush to disk, once per case. When several requests of
one process are reporting at once (an Open311 gateway, a hotline bridge), the first to find no
write under way becomes the *leader*: it takes every report waiting at that moment and writes
them with ``services.report_many`` in one transaction, while the reports arriving meanwhile
wait for the next leader. Nobody waits for a batch to fill: one request at a time makes
batches of one (what ``report_many`` does for a single input); under load batches grow by
themselves, as a database groups the commits of its log.

Each caller gets its own answer: its case, its own ``CaseError`` (that input alone refused:
outside the grid, no description …), or the error that rolled its batch back. When the
database refuses a batch because of one row (``IntegrityError``, ``DataError``), each report of
it is written again on its own, so one bad input never takes its neighbours down. Any other
error (the connection lost, the database shutting down) goes to every caller of the batch:
nothing of it was written, and they answer as any request does when the database is away.

A caller already inside a transaction is never grouped: its reports would commit or roll back
with work that is not theirs. Such a call is written at once, alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, connection
from django.db.models import Model

from chengguan.cases.models import Case
from chengguan.cases.services import BatchReport, CaseError, ReportInput, report_many
from chengguan.core.bulk import insert_new

# What must be written with a case, in its transaction (an Open311 request's own row): built
# from the new case, unsaved; the leader inserts each kind at once for the whole batch.
Companion = Callable[[Case], Model]

MAX_BATCH = 64  # bounds a batch's transaction (and its lock on the day counter)


@dataclass(eq=False)
class _Ticket:
    data: ReportInput
    companion: Companion | None
    done: bool = False
    case: Case | None = None
    error: BaseException | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> Case:
        if self.error is not None:
            raise self.error
        assert self.case is not None
        return self.case


@dataclass
class Stats:
    """What this process's group commit has done (the tests read it)."""

    batches: int = 0
    reports: int = 0
    largest: int = 0
    retried_alone: int = 0


class GroupIntake:
    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Ticket] = []
        self._writing = False
        self.stats = Stats()

    def report(self, data: ReportInput, companion: Companion | None = None) -> Case:
        """The new case for ``data`` (with its companion row written in the same transaction),
        or the CaseError that refuses it; returns once the case has committed."""
        ticket = _Ticket(data, companion)
        if connection.in_atomic_block:
            self._write([ticket])
            return ticket.answer()
        with self._lock:
            self._waiting.append(ticket)
        while True:
            with self._lock:
                if ticket.done:
                    break
                lead = not self._writing
                if lead:
                    self._writing = True
                    batch = self._waiting[: self.max_batch]
                    del self._waiting[: self.max_batch]
            if not lead:
                # Woken when a batch is written: either ours (done) or the writer left and one
                # of us takes the next batch. The timeout only bounds a missed wake-up.
                ticket.ready.wait(timeout=0.05)
                ticket.ready.clear()
                continue
            try:
                self._write(batch)
            finally:
                with self._lock:
                    self._writing = False
                    following = self._waiting[:1]
                for waiting in following:  # the next leader: the oldest waiting report
                    waiting.ready.set()
        return ticket.answer()

    def _write(self, batch: Sequence[_Ticket]) -> None:
        try:
            try:
                self._commit(batch)
            except (IntegrityError, DataError):
                if len(batch) == 1:
                    raise
                # One row refused by the database: each report on its own, so only that
                # one fails (the batch was rolled back as a whole: nothing is written twice).
                self.stats.retried_alone += len(batch)
                for ticket in batch:
                    self._write([ticket])
        except BaseException as error:  # every caller of the batch hears of it
            for ticket in batch:
                if not ticket.done:
                    ticket.error = error
        finally:
            for ticket in batch:
                if not ticket.done:
                    ticket.done = True
                    ticket.ready.set()

    def _commit(self, batch: Sequence[_Ticket]) -> None:
        def companions(result: BatchReport) -> None:
            kinds: dict[type[Model], list[Model]] = {}
            for index, case in result.created:
                make = batch[index].companion
                if make is not None:
                    row = make(case)
                    kinds.setdefault(type(row), []).append(row)
            for rows in kinds.values():
                insert_new(rows)

        result = report_many([t.data for t in batch], within=companions)
        self.stats.batches += 1
        self.stats.reports += len(batch)
        self.stats.largest = max(self.stats.largest, len(batch))
        for index, case in result.created:
            batch[index].case = case
        for refused in result.errors:
            batch[refused.index].error = CaseError(refused.message, refused.field)
        for ticket in batch:
            ticket.done = True
            ticket.ready.set()


_intake = GroupIntake()


def report(data: ReportInput, companion: Companion | None = None) -> Case:
    """``services.report`` for many concurrent callers of one process: see the module."""
    return _intake.report(data, companion)


def stats() -> Stats:
    return _intake.stats
