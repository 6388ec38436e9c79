//! Progress shown on a terminal, one way for every command: a bar when the
//! work has a measure, a spinner when it has none, nothing at all when
//! standard error is not a terminal (a script, a log, CI). Vietnamese first,
//! English second, like every message an officer reads.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// A bar of `total` steps; `what` names them (`trang / pages`).
pub fn bar(total: u64, doing: &str, what: &str) -> ProgressBar {
    bar_with(
        total,
        &format!("{{spinner}} {doing} {{pos}}/{{len}} {what} {{wide_bar}} {{eta}}"),
    )
}

/// A bar over the bytes of a file; its message is set as the work goes.
pub fn bytes(total: u64, doing: &str) -> ProgressBar {
    bar_with(
        total,
        &format!("{{spinner}} {doing} {{msg}} {{wide_bar}} {{bytes}}/{{total_bytes}} {{eta}}"),
    )
}

/// A spinner for work without a measure.
pub fn spinner(message: String) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Whether progress is drawn at all.
pub fn shown() -> bool {
    std::io::stderr().is_terminal()
}

fn bar_with(total: u64, template: &str) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
