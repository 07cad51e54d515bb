# shellcheck shell=bash
# The report: machine facts, method, and the tables report.awk computes from
# WORK/results.tsv. Sourced by run.sh.

# machine_facts: what the figures were measured on, as a markdown list.
machine_facts() {
  local cpu mem_kb fs
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
  fs=$(df -PT "$WORK" | awk 'NR == 2 { print $2 }')
  printf -- '- CPU: %s, %s cores\n' "${cpu:-unknown}" "$(nproc)"
  printf -- '- RAM: %s GiB\n' "$((mem_kb / 1024 / 1024))"
  printf -- '- OS: %s, kernel %s\n' "$(. /etc/os-release && printf '%s' "$PRETTY_NAME")" "$(uname -r)"
  printf -- '- File system of the SQLite files: %s\n' "$fs"
  printf -- '- Load average (1, 5, 15 min) at the start: %s; at the end: %s\n' "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf -- '- Go: %s\n' "$(go env GOVERSION)"
  server_versions
  tool_versions
}

# method: how the figures were obtained, so that a reader can judge them.
method() {
  cat <<EOF2
Each version creates a table (five columns) and an index; every tenth version also inserts
100 rows, one INSERT statement per row. Every tool starts from an empty database (SQLite:
no file; servers: an empty database created beforehand) and applies all N versions; then
the same command runs again with nothing pending ("no-op sync": \`db sync\`, \`goose up\`,
\`migrate up\`, \`dbmate migrate\`), then the version query (\`db version\`, \`goose version\`,
\`migrate version\`; dbmate has none, so its \`status\`). The floor is the database's own
client running the same SQL as one script with one BEGIN/COMMIT per version; it keeps no
version table. Wall time is measured around the process, peak RSS is GNU time's %M for the
client process (server memory is not counted). Every figure is the median of $RUNS run(s);
the tools take turns within each run, and the apply range (fastest–slowest run) shows how
steady the machine was. Database settings are the servers' own (below).
EOF2
}

# render_report: the whole RESULTS.md on stdout.
# shellcheck disable=SC2016 # the backticks are markdown, not command substitution
render_report() {
  local dialect tool
  : >"$WORK/labels.tsv"
  for dialect in $DIALECTS; do
    for tool in $(tools_for "$dialect"); do
      printf '%s\t%s\t%s\n' "$dialect" "$tool" "$(tool_label "$tool" "$dialect")" >>"$WORK/labels.tsv"
    done
  done
  printf '# ratchet benchmark results\n\n'
  printf 'Produced by `bench/run.sh -n "%s" -r %s -d "%s" -l %s` on %s.\n\n' \
    "$NS" "$RUNS" "$DIALECTS" "${HISTORY:-0}" "$(date -u '+%Y-%m-%d %H:%M UTC')"
  method
  printf '\n## Machine\n\n'
  machine_facts
  printf '\n'
  awk -v dialects="$DIALECTS" -v ns="$NS" -f "$BENCH/lib/report.awk" \
    "$WORK/labels.tsv" "$WORK/results.tsv"
  history_report
}
