# Elasticsearch with Sada's analysis plugin, built from the same source as `sada up` builds it.
FROM docker.elastic.co/elasticsearch/elasticsearch:8.19.21 AS build
USER root
COPY infra/local/es-analysis-plugin/src /src
RUN set -eux; \
    mkdir -p /out/classes /out/sada-analysis; \
    /usr/share/elasticsearch/jdk/bin/javac --release 17 -cp '/usr/share/elasticsearch/lib/*' -d /out/classes $(find /src -name '*.java'); \
    /usr/share/elasticsearch/jdk/bin/jar cf /out/sada-analysis/sada-analysis.jar -C /out/classes .
COPY infra/compose/sada-analysis/ /out/sada-analysis/

FROM docker.elastic.co/elasticsearch/elasticsearch:8.19.21
COPY --from=build --chown=elasticsearch:root /out/sada-analysis /usr/share/elasticsearch/plugins/sada-analysis
