FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY campaigns ./campaigns
COPY smpp_transport ./smpp_transport
COPY mms_transport ./mms_transport
COPY templates ./templates
COPY manage.py Procfile ./
RUN pip install --no-cache-dir . && python manage.py collectstatic --noinput
ENV VAR_DIR=/app/var
EXPOSE 8000
