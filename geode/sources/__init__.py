"""RINEX retrieval from data sources (GeoDE's DownloadSources): which servers serve which station, how a
remote path is built for a day, how each protocol fetches a file, how a download is validated and dropped
into ``<repository>/data_in/<net>.<stn>/`` for ``geode scan ingest``.

Modules: ``catalog`` (sources_* tables), ``templates`` (path tags), ``credentials`` (netrc), ``protocols``
(FTP/FTPA/FTPS/SFTP/HTTP(S) clients), ``validate`` (magic bytes, RINEX header), ``fetch`` (one station's days,
retries, failover, temp names), ``plan`` (what is missing; the run and its attempts log), ``tasks``.
"""
