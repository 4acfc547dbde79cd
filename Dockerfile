FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY campaigns ./campaigns
COPY smpp_transport ./smpp_transport
COPY mms_transport ./mms_transport
COPY templates ./templates
COPY manage.py Procfile ./
ENV VAR_DIR=/app/var
# collectstatic loads the settings but signs nothing: a throwaway key (DEBUG lets it be
# short) for this one command, so no key, generated or given, is ever baked into the image.
# The processes run as an unprivileged user that owns only var/ (media, beat's schedule).
RUN pip install --no-cache-dir . \
    && DEBUG=1 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && test ! -e /app/var/secret_key \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var
USER app
EXPOSE 8000
