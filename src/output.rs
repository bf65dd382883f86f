//! Standard output, where commands print their results. Writing there never
//! panics (as `println!` does on a closed pipe or a full disk) and never stops
//! a command half way: `opsmeter collect | head -1` still stores every
//! repository. A reader that stops reading (a broken pipe) is not an error:
//! the rest of the output is dropped quietly and the command ends with the
//! exit code of its work, as ripgrep does. Any other failure (`> /dev/full`)
//! is remembered and reported once by [`finish`], at the end of the command.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The reader went away: everything else written is dropped.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// The first failure other than a broken pipe; later writes are dropped.
static FAILED: Mutex<Option<io::Error>> = Mutex::new(None);

/// A handle on standard output whose writes always succeed (see the module
/// documentation); put a `BufWriter` around it for many small writes.
pub struct Stdout;

/// Standard output, for results.
pub fn stdout() -> Stdout {
    Stdout
}

fn dropping() -> bool {
    CLOSED.load(Ordering::Relaxed) || FAILED.lock().map(|f| f.is_some()).unwrap_or(true)
}

/// Records a failure; `Ok` when the write may be treated as done.
fn absorb(e: io::Error) -> io::Result<()> {
    match e.kind() {
        // Retrying is the caller's business (`write_all` does it).
        io::ErrorKind::Interrupted => Err(e),
        io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        _ => {
            if let Ok(mut f) = FAILED.lock() {
                f.get_or_insert(e);
            }
            Ok(())
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if dropping() {
            return Ok(buf.len());
        }
        match io::stdout().lock().write(buf) {
            Ok(n) => Ok(n),
            Err(e) => absorb(e).map(|()| buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if dropping() {
            return Ok(());
        }
        io::stdout().lock().flush().or_else(absorb)
    }
}

/// Prints one line of results: `output::line(format_args!("…"))`.
pub fn line(args: fmt::Arguments<'_>) {
    let mut out = stdout();
    // Never an error: failures are kept for `finish`.
    let _ = out.write_fmt(format_args!("{args}\n"));
    let _ = out.flush();
}

/// Flushes standard output and returns the first failure other than a broken
/// pipe, so the command can report that its results were not all written.
pub fn finish() -> io::Result<()> {
    let _ = stdout().flush();
    match FAILED.lock() {
        Ok(mut f) => f.take().map_or(Ok(()), Err),
        Err(_) => Ok(()),
    }
}
