//! The `gts-gateway` binary: configuration from `GTS_*` variables, then [`gts_gateway::run`].

fn main() -> std::process::ExitCode {
    gts_common::binary::main_with(
        "gts-gateway",
        gts_gateway::Config::from_env,
        gts_gateway::run,
    )
}
