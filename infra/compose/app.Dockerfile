# The Sada application image: consumers, CLI and Airflow (DAGs in /app/dags).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 AIRFLOW_HOME=/opt/airflow
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY sada sada
COPY consumers consumers
COPY enrichers enrichers
COPY alerts alerts
COPY collectors collectors
COPY digest digest
COPY dags dags
COPY data data
COPY infra/kafka infra/kafka
COPY infra/elasticsearch infra/elasticsearch
# Editable, so the data files the team edits (data/, infra/) resolve next to the code.
RUN pip install --no-cache-dir -c constraints.txt -e . psycopg2-binary==2.9.10
RUN useradd --system --uid 50000 --home-dir /opt/airflow sada && mkdir -p /opt/airflow && chown sada /opt/airflow
USER sada
CMD ["sada", "--help"]
