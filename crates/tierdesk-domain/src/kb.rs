//! Knowledge-base rules (SPEC §5): the article status workflow and line diffs between versions.

use serde::Serialize;

use crate::DomainError;

/// Article statuses in workflow order.
pub const STATUSES: [&str; 4] = ["draft", "review", "published", "retired"];

/// Statuses an article may move to from `from`.
pub fn allowed_next(from: &str) -> &'static [&'static str] {
    match from {
        "draft" => &["review", "published"],
        "review" => &["draft", "published"],
        "published" => &["review", "retired"],
        "retired" => &["draft"],
        _ => &[],
    }
}

/// Checks a status change (staying in the same status is always allowed).
pub fn check_status_change(from: &str, to: &str) -> Result<(), DomainError> {
    if !STATUSES.contains(&to) {
        return Err(DomainError::field(
            "status",
            format!("unknown status '{to}'; one of: {}", STATUSES.join(", ")),
        ));
    }
    if from == to || allowed_next(from).contains(&to) {
        return Ok(());
    }
    Err(DomainError::field(
        "status",
        format!(
            "an article cannot go from {from} to {to}; allowed: {}",
            allowed_next(from).join(", ")
        ),
    ))
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// `=` unchanged, `-` removed, `+` added.
    pub op: &'static str,
    /// The line.
    pub text: String,
}

/// Longest-common-subsequence line diff of `old` → `new` (inputs past 4,000 lines are compared
/// as whole blocks to bound the work).
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > 4000 || b.len() > 4000 {
        let mut out: Vec<DiffLine> = a
            .iter()
            .map(|l| DiffLine {
                op: "-",
                text: (*l).to_owned(),
            })
            .collect();
        out.extend(b.iter().map(|l| DiffLine {
            op: "+",
            text: (*l).to_owned(),
        }));
        return out;
    }
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(DiffLine {
                op: "=",
                text: a[i].to_owned(),
            });
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(DiffLine {
                op: "-",
                text: a[i].to_owned(),
            });
            i += 1;
        } else {
            out.push(DiffLine {
                op: "+",
                text: b[j].to_owned(),
            });
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffLine {
        op: "-",
        text: (*l).to_owned(),
    }));
    out.extend(b[j..].iter().map(|l| DiffLine {
        op: "+",
        text: (*l).to_owned(),
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_lines_only() {
        let d = line_diff("a\nb\nc\n", "a\nB\nc\nd\n");
        let ops: Vec<(&str, &str)> = d.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(
            ops,
            [("=", "a"), ("-", "b"), ("+", "B"), ("=", "c"), ("+", "d")]
        );
        assert!(line_diff("same\n", "same\n").iter().all(|l| l.op == "="));
    }

    #[test]
    fn workflow() {
        assert!(check_status_change("draft", "published").is_ok());
        assert!(check_status_change("published", "retired").is_ok());
        let e = check_status_change("retired", "published")
            .unwrap_err()
            .to_string();
        assert!(e.contains("allowed: draft"), "{e}");
        assert!(check_status_change("draft", "gone").is_err());
    }
}
