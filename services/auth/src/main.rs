//! The `gts-auth` binary: configuration from `GTS_*` variables, then [`gts_auth::run`].

fn main() -> std::process::ExitCode {
    gts_common::binary::main_with("gts-auth", gts_auth::Config::from_env, gts_auth::run)
}
