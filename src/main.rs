//! The driftwatch command line; everything happens in `driftwatch::cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    driftwatch::cli::main()
}
