#!/usr/bin/env bash
# Checks (and, as root on Debian, installs) what Sada needs outside Python:
# a JDK 17+ with javac (Kafka, Elasticsearch, the analysis plugin), Maven (fetches both from
# Maven Central), and kcat (a stock Kafka client the tests use to list topics).
set -euo pipefail

missing=()
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v curl >/dev/null 2>&1 || missing+=(curl)

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing system packages: ${missing[*]} — install them (e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
