# The DL Grader application image: web (gunicorn), Celery workers, beat and migrations.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
# The web and worker processes never train models: point PIP_EXTRA_INDEX_URL at your PyTorch
# CPU wheel index (or a local wheelhouse) so pip takes the small CPU build of torch.
ARG PIP_EXTRA_INDEX_URL=""
RUN PIP_EXTRA_INDEX_URL="$PIP_EXTRA_INDEX_URL" pip install -r requirements.txt
COPY grader grader
COPY webapp webapp
COPY migrations migrations
COPY assignments assignments
# /var/lib/dlgrader/gpu-locks: GPU lease files (grader/gpus.py), a volume shared by GPU workers.
RUN useradd --create-home --uid 10001 dlgrader && mkdir -p /app/instance /var/lib/dlgrader/gpu-locks \
    && chown dlgrader /app/instance /var/lib/dlgrader/gpu-locks
USER dlgrader
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "webapp:create_app()"]
