# The geode image used by docker-compose.yml for `geode worker start` and `geode db init`.
# GAMIT/GLOBK is licensed separately and not in the image: mount an installed copy at /opt/gamit.
FROM python:3.11-slim-bookworm

# tcsh and gawk run GAMIT's shell scripts, libgfortran5 its binaries; procps gives the worker `ps` for
# killing GAMIT process trees; nothing else is needed at run time (psycopg2-binary brings libpq)
RUN apt-get update \
    && apt-get install -y --no-install-recommends tcsh gawk libgfortran5 procps \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY geode ./geode
COPY geode_cli ./geode_cli
COPY man ./man
COPY completions ./completions
RUN pip install --no-cache-dir ".[distributed]" && rm -rf /src

# an unprivileged user; the data folders are mounted from the host (see docker-compose.yml)
RUN useradd --create-home --uid 1000 geode \
    && mkdir -p /data/archive /data/repository /data/production /data/orbits \
    && chown -R geode:geode /data
USER geode
WORKDIR /home/geode
ENV PYTHONUNBUFFERED=1 \
    PATH="/opt/gamit/com:/opt/gamit/gamit/bin:/opt/gamit/kf/bin:${PATH}"

CMD ["geode", "worker", "start"]
