# Neon Arena web image: gunicorn (gthread) serving the Dash app on the bundled data and shipped models.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=8050 \
    NEON_JOB_CACHE_DIR=/var/cache/neon-arena/jobs

WORKDIR /srv/neon-arena

# CPU-only torch first, from the PyTorch CPU index, so the pinned requirement never pulls a CUDA build.
COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install -r requirements.txt

COPY app ./app
COPY core ./core
COPY callbacks ./callbacks
COPY layouts ./layouts
COPY assets ./assets
COPY models ./models
COPY data ./data
COPY deploy ./deploy
COPY wsgi.py pyproject.toml ./

RUN useradd --system --create-home --uid 10001 neon \
 && mkdir -p /var/cache/neon-arena/jobs data/cache \
 && chown -R neon:neon /var/cache/neon-arena data/cache \
 && chmod 700 /var/cache/neon-arena/jobs
USER neon

EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=2)"
CMD ["gunicorn", "--no-control-socket", "-c", "deploy/gunicorn.conf.py", "wsgi:server"]
