# Sourced by run.sh and test.sh: where cargo builds, and a guard for moved checkouts.
#
# The target directory lives outside the clone (~/.cache/gts/target) so each clone does not
# rebuild every dependency. Cargo's fingerprints are relative to the workspace, so a build
# from another checkout path can reuse this workspace's own artifacts with the other
# checkout's absolute paths compiled in (env!("CARGO_MANIFEST_DIR"), used to find fixtures).
# When the checkout path changes, the workspace's own packages are cleaned; dependencies
# stay cached.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gts/target}"
# One-off builds gain nothing from incremental state, which costs gigabytes of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

gts_clean_if_checkout_moved() {
    local marker="$CARGO_TARGET_DIR/.gts-checkout" here
    here=$(pwd -P)
    if [ -f "$marker" ] && [ "$(cat "$marker")" != "$here" ]; then
        echo "==> this checkout ($here) differs from the last build's; rebuilding the workspace's own crates"
        local args=() manifest name
        for manifest in proto/Cargo.toml services/*/Cargo.toml crates/*/Cargo.toml tools/*/Cargo.toml \
            gateway/Cargo.toml tests/Cargo.toml; do
            name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n 1)
            [ -n "$name" ] && args+=(-p "$name")
        done
        cargo clean --quiet "${args[@]}"
    fi
    mkdir -p "$CARGO_TARGET_DIR"
    printf '%s\n' "$here" > "$marker"
}
