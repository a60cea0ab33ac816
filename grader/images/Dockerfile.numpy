# Sandbox image, "numpy" environment: Python 3.11 + NumPy and nothing else, run as nobody. Cases
# of assignments that forbid torch (scipy, sklearn, ...) run here, so the ban holds by absence,
# whatever route the code takes to import them. Without a registry, use build_local.sh instead.
#
#   docker build -f grader/images/Dockerfile.numpy -t dlgrader-sandbox:numpy grader/images
FROM python:3.11-slim

ARG NUMPY_VERSION=2.4.6

RUN pip install --no-cache-dir "numpy==${NUMPY_VERSION}" \
    && python3 -c "import numpy" \
    && pip uninstall -y pip setuptools wheel \
    && rm -rf /root/.cache \
    && mkdir -p /job && chmod 1777 /job

ENV LANG=C.UTF-8
LABEL org.opencontainers.image.title="dlgrader sandbox (numpy only)"
USER 65534:65534
WORKDIR /job
CMD ["python3"]
