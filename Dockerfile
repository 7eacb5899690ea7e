# Concord web and worker image (used by docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN groupadd --system concord && useradd --system --gid concord --home-dir /app --shell /usr/sbin/nologin concord
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Hashed, compressed static files; a throw-away key, since settings refuse to load without a real one
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" python manage.py collectstatic --noinput
RUN mkdir -p /app/var && chown concord:concord /app/var
# never root at run time
USER concord
EXPOSE 8000
# the web server's own health (the worker and beat containers override it in docker-compose.yml)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD ["python", "-c", "import os, sys, urllib.request as u; host = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.*') or 'localhost'; sys.exit(u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=4).status != 200)"]
CMD ["gunicorn", "concord.wsgi:application", "--config", "gunicorn.conf.py"]
