# seda: one image for the web processes, the Celery worker, beat and the migration step.
# Build stage: dependencies into a virtualenv (compilers stay here if a wheel is missing).
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r /tmp/requirements.txt

# Runtime stage: the virtualenv and the code, run as an unprivileged user.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=3001
RUN groupadd --system --gid 10001 seda \
    && useradd --system --uid 10001 --gid seda --home-dir /app --shell /usr/sbin/nologin seda
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=seda:seda . .
USER seda
EXPOSE 3001
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3001/api/v1/health/live', timeout=2)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
