//! Where the command's output goes: stdout and stderr, written without ever
//! panicking.
//!
//! `println!` panics (exit 101) when stdout cannot be written, after the
//! command did its work. Every line goes through `outln!` (stdout) or
//! `errln!` (stderr) instead. The first failure on stdout is remembered
//! and later output is dropped; `main` passes the command's exit code
//! through [`finish`], which decides:
//!
//! - the reader went away (EPIPE: `catalog list | head -1`): quiet, and the
//!   command's own exit code — the reader chose to stop reading;
//! - any other failure (a full disk, an I/O error): one line on stderr, and
//!   exit 1 if the command had succeeded (its output is lost or cut short,
//!   so 0 would tell a script it has it), else the command's own code.
//!
//! A stdout closed before the start (`catalog list >&-`) is not an error:
//! the Rust runtime opens `/dev/null` in its place. A stderr that cannot be
//! written is ignored: there is nowhere left to report it.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Prints one line on stdout; once stdout cannot be written, nothing (see
/// [`line()`] for output that should stop then).
macro_rules! outln {
    ($($arg:tt)*) => {{
        $crate::stdio::out_line(format_args!($($arg)*));
    }};
}

/// Prints one line on stderr; a failure is ignored.
macro_rules! errln {
    ($($arg:tt)*) => {{
        $crate::stdio::err_line(format_args!($($arg)*));
    }};
}

/// What has happened to stdout so far.
#[derive(Debug)]
enum State {
    /// Every write succeeded.
    Open,
    /// A write failed with EPIPE: the reader is gone.
    ReaderGone,
    /// A write failed otherwise.
    Failed(io::Error),
}

static STDOUT: Mutex<State> = Mutex::new(State::Open);

fn state() -> MutexGuard<'static, State> {
    STDOUT.lock().unwrap_or_else(PoisonError::into_inner)
}

fn failed(e: io::Error) -> State {
    if e.kind() == io::ErrorKind::BrokenPipe {
        State::ReaderGone
    } else {
        State::Failed(e)
    }
}

/// Writes `text` and a newline to stdout; `false` once stdout cannot be
/// written, so a stream (`events --follow`) stops.
pub fn line(text: &str) -> bool {
    out_line(format_args!("{text}"))
}

/// Writes one line to stdout and flushes it (output read while the command
/// still runs); `false` once stdout cannot be written.
pub fn out_line(args: fmt::Arguments<'_>) -> bool {
    let mut st = state();
    if !matches!(*st, State::Open) {
        return false;
    }
    let mut out = io::stdout().lock();
    match out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
    {
        Ok(()) => true,
        Err(e) => {
            *st = failed(e);
            false
        }
    }
}

/// Writes one line to stderr (see `errln!`).
pub fn err_line(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// The exit code of a command whose own code is `code`, given what
/// happened to its output (see the module documentation).
pub fn finish(code: ExitCode) -> ExitCode {
    let mut st = state();
    if matches!(*st, State::Open)
        && let Err(e) = io::stdout().lock().flush()
    {
        *st = failed(e);
    }
    match &*st {
        State::Open | State::ReaderGone => code,
        State::Failed(e) => {
            errln!(
                "error: could not write the output to stdout ({e}); {}",
                if code == ExitCode::SUCCESS {
                    "the command itself completed"
                } else {
                    "the command failed as well"
                }
            );
            if code == ExitCode::SUCCESS {
                ExitCode::from(1)
            } else {
                code
            }
        }
    }
}
