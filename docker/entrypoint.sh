#!/bin/sh
# Container entry point (docker compose up): migrate, load the Lishui demo city, serve.
# Expects DATABASE_URL, REDIS_URL and SECRET_KEY in the environment.
set -eu
cd /app
command-center migrate
command-center import jurisdictions demo/lishui/jurisdictions.geojson
command-center import matters demo/lishui/matters.csv
command-center import squads demo/lishui/squads.csv
command-center import attributes demo/lishui/attributes.csv
command-center import members demo/lishui/members.csv
echo "Operator token: $(command-center token --role operator)"
echo "  curl -H \"Authorization: Bearer \$TOKEN\" http://127.0.0.1:8000/api/v1/clues"
exec command-center serve --host 0.0.0.0 --port 8000
