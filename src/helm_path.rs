//! Paths into Helm values: `a.b[0].c`, with `\.` for a dot inside a key,
//! as Helm's `--set` (and so Flux's `targetPath`) reads them, and as
//! extraction names the fields it finds.

use crate::yaml::Node;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// The steps of `path`; `None` for what fluxgate cannot follow (an empty
/// key, an index that is not a number, `,` or `=` that `--set` would read
/// as more than one value).
pub fn parse(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => key.push(chars.next()?),
            '.' => {
                if !after_index {
                    if key.is_empty() {
                        return None;
                    }
                    steps.push(Step::Key(std::mem::take(&mut key)));
                }
                after_index = false;
            }
            '[' => {
                if !key.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut key)));
                } else if steps.is_empty() {
                    return None;
                }
                let mut digits = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == ']' {
                        closed = true;
                        break;
                    }
                    digits.push(c);
                }
                if !closed {
                    return None;
                }
                steps.push(Step::Index(digits.parse().ok()?));
                after_index = true;
            }
            ',' | '=' => return None,
            _ => {
                if after_index {
                    return None;
                }
                key.push(c);
            }
        }
    }
    if !key.is_empty() {
        steps.push(Step::Key(key));
    } else if !after_index {
        return None;
    }
    Some(steps)
}

/// The node at `path` under `root`.
pub fn follow<'a>(root: &'a Node, path: &[Step]) -> Option<&'a Node> {
    path.iter().try_fold(root, |node, step| match step {
        Step::Key(key) => node.get(key),
        Step::Index(index) => node.as_sequence()?.get(*index),
    })
}

/// The node at the path written `path` under `root`.
pub fn follow_written<'a>(root: &'a Node, path: &str) -> Option<&'a Node> {
    follow(root, &parse(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_as_helm_reads_them() {
        assert_eq!(
            parse("image.tag").unwrap(),
            [Step::Key("image".into()), Step::Key("tag".into())]
        );
        assert_eq!(
            parse("app\\.kubernetes.images[1][2].tag").unwrap(),
            [
                Step::Key("app.kubernetes".into()),
                Step::Key("images".into()),
                Step::Index(1),
                Step::Index(2),
                Step::Key("tag".into())
            ]
        );
        for unreadable in [
            "",
            ".tag",
            "image..tag",
            "a[x].tag",
            "a=b",
            "a,b",
            "a[0]b",
            "a\\",
            "[0]",
            "a[1",
        ] {
            assert_eq!(parse(unreadable), None, "{unreadable:?}");
        }
    }
}
