//! Progress on stderr while hashing or sweeping: drawn only when stderr is
//! a terminal (quiet otherwise, so pipes and logs stay clean), coloured
//! only when `NO_COLOR` is unset.

use crate::output::color_enabled;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar, or nothing when stderr is not a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total` bytes with throughput, labelled `label`.
    pub fn bytes(total: u64, label: &str) -> Progress {
        let bar_style = if color_enabled() {
            "{wide_bar:.cyan/blue}"
        } else {
            "{wide_bar}"
        };
        let template = format!(
            "{{msg}} {bar_style} {{binary_bytes}}/{{binary_total_bytes}} \
             {{binary_bytes_per_sec}} eta {{eta}}"
        );
        Progress::new(Some(total), &template, label)
    }

    /// A counter of things examined (the total is not known in advance).
    pub fn count(label: &str, unit: &str) -> Progress {
        let spinner = if color_enabled() {
            "{spinner:.cyan}"
        } else {
            "{spinner}"
        };
        let template = format!("{spinner} {{msg}}: {{human_pos}} {unit}");
        Progress::new(None, &template, label)
    }

    fn new(total: Option<u64>, template: &str, label: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        if total.is_none() {
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        Progress { bar: Some(bar) }
    }

    /// Adds `n` (bytes hashed, objects examined).
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Changes the label (for example to the model being hashed).
    pub fn set_label(&self, label: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(label.to_string());
        }
    }

    /// Removes the bar, so the result prints on a clean line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
