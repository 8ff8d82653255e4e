"""The two archive runs, dispatched per batch of files through ``geode.jobs``: ``scan_archive`` (archive →
``rinex`` rows) and ``ingest_repository`` (``data_in`` → archive + rows). This is the only module of the package
that knows the tasks; the graph is one-way: run → tasks → ingest / scan."""

from __future__ import annotations

from pathlib import Path

from . import tasks
from .ingest import IngestReport, pending_files, release_locks
from .layout import ArchiveLayout
from .scan import ScanReport, plan_batches
from .staging import remove_stale


def scan_archive(db, root: Path, runner, stations=None, progress=None, max_size: int | None = None) -> ScanReport:
    """Scan the archive (or the given StationRefs' files) through the dispatch runner."""
    root = Path(root)
    layout = ArchiveLayout.from_db(db)
    wanted = None if stations is None else {(s.network, s.code) for s in stations}
    batches = plan_batches(root, layout, wanted)
    report = ScanReport()
    summary = runner.map(tasks.scan_files, [(str(root), b, max_size) for b in batches], progress=progress,
                         description="scan: files", weight=lambda item: len(item[1]),
                         failed_units=lambda outcome: sum(o.status in ("problem", "transient")
                                                          for o in outcome.result))
    for outcome in summary.results:
        report.outcomes.extend(outcome.result)
    for f in summary.failures:
        report.failures.append({"unit": ", ".join(f.item[1][:3]) + ("…" if len(f.item[1]) > 3 else ""),
                                "message": f.message})
    report.outcomes.sort(key=lambda o: o.path)
    return report


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
