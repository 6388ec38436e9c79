//! Where a build may write. A build replaces its output folder's contents
//! with the site, so a wrong `-o` must never reach files the build did not
//! make: the portal itself (`-o .` would have emptied `ledger/` and the
//! secret), a folder above it, one of its sources, a folder that is a
//! symbolic link (the build would write and delete wherever it leads), or a
//! folder that already holds files without a manifest from an earlier build
//! (someone's documents, unless `--force`).

use crate::portal::{SOURCE_DIRS, absolute_lexical};
use anyhow::{Result, bail};
use std::path::Path;

/// Refuses `output` as a build's destination for `portal_root` unless it is
/// missing, empty, or an earlier build's output (its manifest is beside it);
/// `force` allows a non-empty folder without one (nothing in it is deleted).
pub fn check_destination(portal_root: &Path, output: &Path, force: bool) -> Result<()> {
    let shown = output.display();
    if std::fs::symlink_metadata(output).is_ok_and(|meta| meta.file_type().is_symlink()) {
        bail!(
            "không dựng trang vào `{shown}`: đó là liên kết tượng trưng / refusing to build into `{shown}`: it is a symbolic link, and a build writes and deletes files wherever it leads; give the real folder instead"
        );
    }
    let root = absolute_lexical(portal_root)?;
    let target = absolute_lexical(output)?;
    if root.starts_with(&target) {
        bail!(
            "không dựng trang vào `{shown}`: đó là thư mục cổng thông tin hoặc thư mục chứa nó / refusing to build into `{shown}`: it is the portal or a folder above it, whose files a build would replace; use the default `public/` or a folder of its own"
        );
    }
    if let Ok(inside) = target.strip_prefix(&root)
        && let Some(first) = inside.components().next()
        && let Some(name) = first.as_os_str().to_str()
        && let Some(source) = SOURCE_DIRS.iter().find(|dir| **dir == name)
    {
        bail!(
            "không dựng trang vào `{shown}`: nằm trong `{source}/` của cổng thông tin / refusing to build into `{shown}`: it is inside the portal's `{source}/`, which the site is built from"
        );
    }
    let meta = match std::fs::metadata(output) {
        Ok(meta) => meta,
        Err(_) => return Ok(()),
    };
    if !meta.is_dir() {
        bail!(
            "không dựng trang vào `{shown}`: đó là một tệp, không phải thư mục / refusing to build into `{shown}`: it is a file, not a folder"
        );
    }
    let empty = std::fs::read_dir(output).is_ok_and(|mut entries| entries.next().is_none());
    if empty || force || super::Manifest::path(output).is_file() {
        return Ok(());
    }
    bail!(
        "không dựng trang vào `{shown}`: thư mục không trống và không do lần dựng trước tạo ra; hãy làm trống, chọn thư mục khác, hoặc dùng --force / refusing to build into `{shown}`: the folder is not empty and no earlier build made it (there is no `{}` beside it); empty it, choose another folder, or pass --force to build into it anyway (nothing in it is deleted)",
        super::Manifest::path(output).display()
    )
}
