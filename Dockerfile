# smartcity application image: one image, the `smartcity` entrypoint, a sub-command per service.
# Stage 1 builds the wheel from the source tree; stage 2 installs only that wheel (no source tree,
# no editable install), exactly as a platform team would install the published package.
FROM python:3.11-slim AS wheel

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1 \
    PREFECT_HOME=/home/smartcity/.prefect \
    SMARTCITY_LAKE=/lake \
    SMARTCITY_HEARTBEAT=/tmp/smartcity-heartbeat \
    SMARTCITY_SQL_SAFE=true

COPY constraints.txt /tmp/constraints.txt
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install -c /tmp/constraints.txt /tmp/dist/*.whl \
    && rm -rf /tmp/dist /tmp/constraints.txt \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin smartcity \
    && mkdir -p /lake \
    && chown -R smartcity:smartcity /lake

USER smartcity
WORKDIR /home/smartcity
VOLUME ["/lake"]

# The daemons (ingest, alerts) touch $SMARTCITY_HEARTBEAT every loop; services without one
# override or disable this check in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["smartcity", "health", "--max-age", "60"]

ENTRYPOINT ["smartcity"]
CMD ["--help"]
