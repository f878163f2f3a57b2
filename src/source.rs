//! A file's text plus a line index, so byte spans from the parser become the
//! 1-based line and column (in Unicode code points) that users and CI tools see.

use std::sync::Arc;

/// A half-open byte range into a [`SourceText`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A 1-based line and column; the column counts Unicode code points, as
/// SARIF's `unicodeCodePoints` and editors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Which side of the change a file was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    Base,
    Head,
}

/// The text of one file at one side of the change.
#[derive(Debug)]
pub struct SourceText {
    pub path: String,
    pub side: Side,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceText {
    pub fn new(path: impl Into<String>, side: Side, text: String) -> Arc<Self> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Arc::new(SourceText {
            path: path.into(),
            side,
            text,
            line_starts,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The position of a byte offset; offsets past the end clamp to the end,
    /// offsets inside a multi-byte character round down to its start.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let mut line_start = self.line_starts[line_index];
        // A byte-order mark is not a column: editors do not show it.
        if line_start == 0 && self.text.starts_with('\u{feff}') {
            line_start = offset.min('\u{feff}'.len_utf8());
        }
        let column = self.text[line_start..offset].chars().count() + 1;
        Position {
            line: line_index + 1,
            column,
        }
    }

    /// The byte offset of a 0-based line and 0-based code-point column, as
    /// libyaml marks report them; used where a mark's byte index cannot be trusted.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line) else {
            return self.text.len();
        };
        let line_text = &self.text[start..];
        line_text
            .char_indices()
            .nth(column)
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_code_points_and_handle_crlf() {
        let src = SourceText::new("a.yaml", Side::Head, "a: 1\r\nbé: x\n".to_string());
        assert_eq!(src.position(0), Position { line: 1, column: 1 });
        let x = src.text().find('x').unwrap();
        assert_eq!(src.position(x), Position { line: 2, column: 5 });
        assert_eq!(src.offset_of(1, 4), x);
        assert_eq!(src.position(999).line, 3);
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let src = SourceText::new("a.yaml", Side::Head, "\u{feff}a: 1\nb: 2\n".to_string());
        assert_eq!(src.position(0), Position { line: 1, column: 1 });
        assert_eq!(src.position(3), Position { line: 1, column: 1 });
        assert_eq!(src.position(6), Position { line: 1, column: 4 });
        assert_eq!(src.position(8), Position { line: 2, column: 1 });
    }
}
