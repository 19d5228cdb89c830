//! The `gts-worker` binary: configuration from `GTS_*` variables, then [`gts_worker::run`].

fn main() -> std::process::ExitCode {
    gts_common::binary::main_with("gts-worker", gts_worker::Config::from_env, gts_worker::run)
}
