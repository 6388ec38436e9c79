# Per-target settings shared by ci.sh and long.sh (sourced, not run).

TARGETS="entry_line checkpoint_note verifier_key append_input import_csv import_xlsx import_cell import_mapping front_matter markdown config proof_receipt"
BIN=target/x86_64-unknown-linux-gnu/release

# Per target: the longest input worth trying and its dictionary, if any.
max_len() {
    case "$1" in
    verifier_key | import_cell) echo 512 ;;
    checkpoint_note | import_mapping | proof_receipt) echo 4096 ;;
    entry_line | append_input | config | front_matter) echo 4096 ;;
    markdown | import_csv) echo 8192 ;;
    import_xlsx) echo 16384 ;;
    *) echo 4096 ;;
    esac
}
dict() {
    case "$1" in
    entry_line | append_input) echo dict/json.dict ;;
    config | import_mapping | front_matter) echo dict/toml.dict ;;
    markdown) echo dict/markdown.dict ;;
    import_csv | import_cell) echo dict/csv.dict ;;
    checkpoint_note | verifier_key | proof_receipt) echo dict/note.dict ;;
    esac
}

# The libFuzzer options of every run: a crash, a 10 s hang or 2 GB of memory
# is a finding.
options() {
    local d
    d=$(dict "$1")
    echo "-rss_limit_mb=2048 -timeout=10 -max_len=$(max_len "$1") ${d:+-dict=$d}"
}
