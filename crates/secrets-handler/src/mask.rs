//! `masked_value`: the spec's rule for showing a secret without revealing it.
//!
//! From `UserSecret.masked_value` in openapi.yaml: characters (not bytes) are counted; the first
//! `min(6, floor(n/4) - floor(n/8))` and the last `min(3, floor(n/8))` are shown around `••••`, so never more than a
//! quarter of the value; a value shorter than 4 characters is `••••` alone. A shown control character is shown as
//! U+FFFD: it has no glyph, and PostgreSQL's `text` cannot hold U+0000.

/// What replaces the hidden middle of every masked value.
pub const MASK: &str = "••••";

/// Masks `value` per the spec's rule.
pub fn mask(value: &str) -> String {
    let n = value.chars().count();
    if n < 4 {
        return MASK.to_owned();
    }
    let (head, tail) = shown(n);
    let mut out = String::with_capacity(MASK.len() + 4 * (head + tail));
    out.extend(value.chars().take(head).map(shown_char));
    out.push_str(MASK);
    out.extend(value.chars().skip(n - tail).map(shown_char));
    out
}

/// A character as the masked value shows it.
fn shown_char(c: char) -> char {
    if c.is_control() { char::REPLACEMENT_CHARACTER } else { c }
}

/// How many leading and trailing characters a value of `n` characters shows.
fn shown(n: usize) -> (usize, usize) {
    let head = (n / 4 - n / 8).min(6);
    let tail = (n / 8).min(3);
    (head, tail)
}

#[cfg(test)]
mod tests {
    use super::{MASK, mask};

    /// `(value, expected masked value)`.
    const CASES: &[(&str, &str)] = &[
        ("", "••••"),
        ("a", "••••"),
        ("abc", "••••"),
        ("abcd", "a••••"),
        ("example", "e••••"),
        ("abcdefgh", "a••••h"),
        ("abcdefghijkl", "ab••••l"),
        ("abcdefghijklmnop", "ab••••op"),
        ("sk-proj-4f9a2c7e1b8d3a6f5e0c9b2a7d4e1f3c", "sk-pr••••f3c"),
        (
            "sk-proj-4f9a2c7e1b8d3a6f5e0c9b2a7d4e1f3c8b6a5d2e9f0c7b4a1d8e3f6c2b5a9789",
            "sk-pro••••789",
        ),
        // multibyte: counted in characters, never split inside one
        ("ééé", "••••"),
        ("éééé", "é••••"),
        ("日本語のひみつの鍵だ", "日••••だ"),
        ("🔑🔑🔑🔑🔑🔑🔑🔑", "🔑••••🔑"),
        ("ключ-для-api-123", "кл••••23"),
        // control characters shown are replaced (U+0000 cannot be stored in PostgreSQL's text)
        ("\u{0}bcdefghijklmn\u{0}", "\u{fffd}b••••\u{fffd}"),
        ("\u{1f}\u{85}cdefghijklm\u{7f}", "\u{fffd}\u{fffd}••••\u{fffd}"),
        ("ab\tdefghijklmnop", "ab••••op"),
    ];

    #[test]
    fn masks_per_the_spec() {
        for (value, expected) in CASES {
            assert_eq!(mask(value), *expected, "value of {} chars", value.chars().count());
        }
    }

    /// Never more than a quarter of the characters, for every length up to 200 and for several alphabets.
    #[test]
    fn never_reveals_more_than_a_quarter() {
        for n in 0..=200 {
            for ch in ['x', 'é', '日', '🔑'] {
                let value: String = std::iter::repeat_n(ch, n).collect();
                let masked = mask(&value);
                let revealed = masked.chars().count() - MASK.chars().count();
                assert!(4 * revealed <= n, "{n} chars of {ch:?} reveal {revealed}");
                assert!(masked.contains(MASK));
            }
        }
    }

    #[test]
    fn revealed_counts_by_length() {
        // (length, head shown, tail shown)
        let table = [
            (1, 0, 0),
            (4, 1, 0),
            (7, 1, 0),
            (8, 1, 1),
            (12, 2, 1),
            (16, 2, 2),
            (40, 5, 3),
            (72, 6, 3),
        ];
        for (n, head, tail) in table {
            assert_eq!(super::shown(n), (head, tail), "length {n}");
        }
    }
}
