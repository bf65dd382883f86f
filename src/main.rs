//! The `opsmeter` binary: parse arguments, set up logging, dispatch, report errors.
//! All the work lives in the library so that tests can reach it.

use std::process::ExitCode;

fn main() -> ExitCode {
    opsmeter::cli::main()
}
