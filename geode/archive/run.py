"""The archive runs, dispatched per batch of files through ``geode.jobs``: ``scan_archive`` (archive →
``rinex`` rows), ``qc_archive`` (archive files → ``rinex_qc`` rows) and ``ingest_repository`` (``data_in`` →
archive + rows). This is the only module of the package
that knows the tasks; the graph is one-way: run → tasks → ingest / scan."""

from __future__ import annotations

from pathlib import Path

from . import tasks
from .ingest import IngestReport, pending_files, release_locks
from .layout import ArchiveLayout
from .qc_scan import QCReport, plan_qc
from .scan import ScanReport, plan_batches
from .staging import remove_stale


def scan_archive(db, root: Path, runner, stations=None, progress=None, max_size: int | None = None,
                 qc: bool = False) -> ScanReport:
    """Scan the archive (or the given StationRefs' files) through the dispatch runner; with ``qc``, measure
    the quality of the files the scan stores (``geode scan qc`` does the others)."""
    root = Path(root)
    layout = ArchiveLayout.from_db(db)
    wanted = None if stations is None else {(s.network, s.code) for s in stations}
    batches = plan_batches(root, layout, wanted)
    report = ScanReport()
    items = [(str(root), b, max_size, True) if qc else (str(root), b, max_size) for b in batches]
    return _run_batches(runner, tasks.scan_files, items, "scan: files", progress, report)


def _run_batches(runner, task, items: list[tuple], description: str, progress, report):
    """Dispatch batches of archive files (each item's second value is its list of paths) and gather the files'
    outcomes (``path``, ``status``) and the crashed units into ``report``."""
    summary = runner.map(task, items, progress=progress, description=description, weight=lambda item: len(item[1]),
                         failed_units=lambda outcome: sum(o.status in ("problem", "transient")
                                                          for o in outcome.result))
    for outcome in summary.results:
        report.outcomes.extend(outcome.result)
    for f in summary.failures:
        report.failures.append({"unit": ", ".join(f.item[1][:3]) + ("…" if len(f.item[1]) > 3 else ""),
                                "message": f.message})
    report.outcomes.sort(key=lambda o: o.path)
    return report


def qc_archive(db, root: Path, runner, stations=None, start=None, end=None, redo: bool = False, progress=None,
               max_size: int | None = None) -> QCReport:
    """QC of the archive's files (or the given StationRefs' files, days start..end as datetime.date) through
    the dispatch runner; files already measured with the current metric version are skipped unless ``redo``."""
    root = Path(root)
    layout = ArchiveLayout.from_db(db)
    wanted = None if stations is None else {(s.network, s.code) for s in stations}
    batches, skipped, missing = plan_qc(db, root, layout, wanted, start, end, redo)
    return _run_batches(runner, tasks.qc_files, [(str(root), b, redo, max_size) for b in batches], "qc: files",
                        progress, QCReport(skipped=skipped, missing=missing))


def ingest_repository(db, archive: Path, repository: Path, runner, progress=None, batch_size: int = 8,
                      max_size: int | None = None) -> IngestReport:
    """Ingest every file waiting in ``<repository>/data_in``; first remove the temporary files that killed
    ingests left in the archive's staging folder (nobody holds their lock)."""
    archive, repository = Path(archive), Path(repository)
    for sub in ("data_in", "data_rejected"):
        (repository / sub).mkdir(exist_ok=True)
    report = IngestReport(released_locks=release_locks(db), stale_removed=remove_stale(archive))
    files = pending_files(repository)
    batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
    summary = runner.map(tasks.ingest_files, [(str(archive), str(repository), b, max_size) for b in batches],
                         progress=progress, description="ingest: files", weight=lambda item: len(item[2]),
                         failed_units=lambda outcome: sum(o.status in ("rejected", "transient")
                                                          for o in outcome.result))
    for outcome in summary.results:
        report.outcomes.extend(outcome.result)
    for f in summary.failures:
        report.failures.append({"unit": ", ".join(f.item[2][:3]), "message": f.message})
    report.outcomes.sort(key=lambda o: o.source)
    return report
