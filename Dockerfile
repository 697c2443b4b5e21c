# Demo image: `docker compose up` (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Reports and documents are rendered to PDF by WeasyPrint (pango) with Noto CJK fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# Project (see .dockerignore), installed as a regular package.
COPY . /app
RUN pip install /app \
    && chmod +x /app/docker/entrypoint.sh \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin app

# Demo data, read by docker/entrypoint.sh.
COPY demo/ /app/demo/

USER app
EXPOSE 8000
CMD ["/app/docker/entrypoint.sh"]
