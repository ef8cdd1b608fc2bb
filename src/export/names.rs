//! File names made from note titles: valid on Linux, macOS and Windows, never empty,
//! never a path, and never replacing a file that is already there.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Longest name part kept from a title (in characters), so paths stay well under limits.
const MAX_CHARS: usize = 100;

/// `title` as a file name stem: path separators, characters Windows forbids and control
/// characters become `_`; leading and trailing dots and spaces go; reserved device names
/// (CON, NUL, COM1…) get a `_`; an empty result is "Untitled".
pub fn safe_file_name(title: &str) -> String {
    let replaced: String = title
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .take(MAX_CHARS)
        .collect();
    let trimmed = replaced.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return "Untitled".to_owned();
    }
    let stem = trimmed
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        format!("{trimmed}_")
    } else {
        trimmed.to_owned()
    }
}

/// Creates `dir/stem.ext`, or `dir/stem (2).ext`, `(3)`… when the name is taken: an
/// existing file is never opened for writing.
pub fn create_new(dir: &Path, stem: &str, ext: &str) -> std::io::Result<(PathBuf, File)> {
    for n in 1.. {
        let name = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem} ({n}).{ext}")
        };
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("some suffix is free")
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn titles_become_safe_names() {
        assert_eq!(safe_file_name("Plans: Q3/Q4?"), "Plans_ Q3_Q4_");
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("  ...  "), "Untitled");
        assert_eq!(safe_file_name(""), "Untitled");
        assert_eq!(safe_file_name("con"), "con_");
        assert_eq!(safe_file_name("COM1.txt"), "COM1.txt_");
        assert_eq!(safe_file_name("line\nbreak"), "line_break");
        assert_eq!(safe_file_name(&"é".repeat(300)).chars().count(), 100);
    }
}
