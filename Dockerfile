# smartcity application image: one image, the `smartcity` entrypoint, a sub-command per service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1 \
    PREFECT_HOME=/home/smartcity/.prefect \
    SMARTCITY_LAKE=/lake \
    SMARTCITY_HEARTBEAT=/tmp/smartcity-heartbeat

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY proto ./proto
COPY ingest ./ingest
COPY storage ./storage
COPY analysis ./analysis
COPY flows ./flows
COPY data ./data
COPY prefect.yaml* ./
RUN pip install -c constraints.txt -e . \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin smartcity \
    && mkdir -p /lake \
    && chown -R smartcity:smartcity /lake /app

USER smartcity
VOLUME ["/lake"]

# The daemons (ingest, alerts) touch $SMARTCITY_HEARTBEAT every loop; services without one
# override or disable this check in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["smartcity", "health", "--max-age", "60"]

ENTRYPOINT ["smartcity"]
CMD ["--help"]
