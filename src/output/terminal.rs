//! Text from evidence shown on a terminal.

use std::borrow::Cow;

/// `text` with every control character written as a Rust escape (`\u{1b}`), so that
/// names, labels and metadata read from evidence cannot move the cursor, recolour
/// or clear the screen, retitle the window, or forge extra lines of output.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .flat_map(|c| {
                let escaped: Vec<char> = if c.is_control() {
                    c.escape_default().collect()
                } else {
                    vec![c]
                };
                escaped
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(shown("Security.evtx"), "Security.evtx");
        assert_eq!(
            shown("a\x1b]0;pwned\x07b\nc"),
            "a\\u{1b}]0;pwned\\u{7}b\\nc"
        );
        assert_eq!(shown("é\u{85}"), "é\\u{85}");
    }
}
