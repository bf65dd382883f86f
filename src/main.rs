//! The `opsmeter` binary: parse arguments, set up logging, dispatch, report errors.
//! All the work lives in the library so that tests can reach it.

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = opsmeter::cli::main();
    // Results that could not all be written (a full disk; a closed pipe is
    // not a failure) are an error, after the command has done its work.
    match opsmeter::output::finish() {
        Ok(()) => code,
        Err(e) => {
            eprintln!("error: writing results to standard output: {e}");
            if code == ExitCode::SUCCESS {
                ExitCode::FAILURE
            } else {
                code
            }
        }
    }
}
