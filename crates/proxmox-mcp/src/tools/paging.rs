//! Paging of the list tools: `limit` and `offset` checked once, a window cut from the sorted
//! rows, and what the answer says beside them (`count`, `total`, `next_offset` and a one-line
//! hint naming how to get the rest).

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ToolError;

/// The most rows one call of a list tool answers, unless the tool says otherwise.
pub(crate) const MAX_ROWS: usize = 1000;

/// The window of rows one call answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) limit: usize,
    pub(crate) offset: usize,
}

impl Window {
    /// The window of `limit` (`default` when absent, at most `max`) and `offset` (0 when
    /// absent), or the error naming the parameter.
    pub(crate) fn new(
        limit: Option<u32>,
        offset: Option<u32>,
        default: usize,
        max: usize,
    ) -> Result<Window, ToolError> {
        let limit = match limit {
            None => default,
            Some(0) => return Err(ToolError::invalid("limit", "must be at least 1")),
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        if limit > max {
            return Err(ToolError::invalid(
                "limit",
                format!("must be at most {max}; page with offset"),
            ));
        }
        let offset = offset.map_or(0, |o| usize::try_from(o).unwrap_or(usize::MAX));
        Ok(Window { limit, offset })
    }

    /// Rows needed from the start of the sorted list to answer this window and to know whether
    /// more follow.
    pub(crate) fn reach(&self) -> usize {
        self.offset.saturating_add(self.limit).saturating_add(1)
    }

    /// This window of `rows` (all the rows that matched, sorted), and what the answer says
    /// beside it. `noun` names the rows (`VMs`, `tasks`); `narrow`, unless empty, ends the hint
    /// with the other ways to cut the list (`filter (node, status)`).
    pub(crate) fn cut<T>(&self, rows: Vec<T>, noun: &str, narrow: &str) -> (Vec<T>, PageInfo) {
        let total = rows.len();
        let page = self.slice(rows);
        let info = self.info(page.len(), total, noun, narrow);
        (page, info)
    }

    /// This window of `rows` (sorted), when the total is known otherwise.
    pub(crate) fn slice<T>(&self, rows: Vec<T>) -> Vec<T> {
        rows.into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }

    /// What an answer of `count` rows from this window says, out of `total`.
    pub(crate) fn info(&self, count: usize, total: usize, noun: &str, narrow: &str) -> PageInfo {
        let end = self.offset.saturating_add(count);
        let next_offset = (end < total).then_some(end);
        let hint = next_offset.map(|next| {
            let or = if narrow.is_empty() {
                String::new()
            } else {
                format!(", or {narrow}")
            };
            format!(
                "{count} of {total} {noun} (from {}); call again with offset {next} for more{or}",
                self.offset
            )
        });
        PageInfo {
            count,
            total,
            next_offset,
            hint,
        }
    }
}

/// What a list answer says beside its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub(crate) struct PageInfo {
    /// Rows in this answer.
    pub(crate) count: usize,
    /// Rows matching the filters, all pages together.
    pub(crate) total: usize,
    /// The offset of the next page, when rows were left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_offset: Option<usize>,
    /// How to get the rest, when rows were left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

impl PageInfo {
    /// The answer of a call that asked for no rows (a summary) out of `total`.
    pub(crate) fn none_of(total: usize) -> PageInfo {
        PageInfo {
            count: 0,
            total,
            next_offset: None,
            hint: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn windows_are_checked_and_cut() {
        let w = Window::new(None, None, 20, 500).unwrap();
        assert_eq!((w.limit, w.offset), (20, 0));
        let e = Window::new(Some(0), None, 20, 500).unwrap_err();
        assert!(e.to_string().contains("limit"), "{e}");
        let e = Window::new(Some(501), None, 20, 500).unwrap_err();
        assert!(e.to_string().contains("at most 500"), "{e}");

        let w = Window::new(Some(3), Some(4), 20, 500).unwrap();
        assert_eq!(w.reach(), 8);
        let (page, info) = w.cut((0..10).collect(), "tasks", "filter");
        assert_eq!(page, [4, 5, 6]);
        assert_eq!((info.count, info.total, info.next_offset), (3, 10, Some(7)));
        let hint = info.hint.unwrap();
        assert!(
            hint.contains("3 of 10 tasks") && hint.contains("offset 7") && hint.ends_with("filter"),
            "{hint}"
        );
        // The last page: no next offset, no hint.
        let w = Window::new(Some(3), Some(8), 20, 500).unwrap();
        let (page, info) = w.cut((0..10).collect(), "tasks", "filter");
        assert_eq!(page, [8, 9]);
        assert_eq!(
            info,
            PageInfo {
                count: 2,
                total: 10,
                next_offset: None,
                hint: None
            }
        );
        // Past the end: nothing, and the total.
        let w = Window::new(None, Some(50), 20, 500).unwrap();
        let (page, info) = w.cut((0..10).collect::<Vec<i32>>(), "tasks", "filter");
        assert!(page.is_empty());
        assert_eq!((info.count, info.total, info.next_offset), (0, 10, None));
    }
}
