//! The `gts-shootout` binary: configuration from `GTS_*` variables, then [`gts_shootout::run`].

fn main() -> std::process::ExitCode {
    gts_common::binary::main_with(
        "gts-shootout",
        gts_shootout::Config::from_env,
        gts_shootout::run,
    )
}
