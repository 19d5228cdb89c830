//! Client input quoted in error messages, bounded.
//!
//! Contract: an error message may quote what a client sent (an id, a name, a service
//! name from a path) only through [`shown`], which keeps at most [`MAX_ECHO_CHARS`]
//! characters, so no reply grows with the request (a long id copied into a message and
//! its details once pushed replies over the 8 KiB header limit).

/// Most characters of client input an error message quotes.
pub const MAX_ECHO_CHARS: usize = 40;

/// `raw` quoted for an error message: whole when short, else its first
/// [`MAX_ECHO_CHARS`] characters and its length.
pub fn shown(raw: &str) -> String {
    let chars = raw.chars().count();
    if chars <= MAX_ECHO_CHARS {
        format!("{raw:?}")
    } else {
        let head: String = raw.chars().take(MAX_ECHO_CHARS).collect();
        format!("{head:?}… ({chars} characters)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_cut() {
        assert_eq!(shown("abc"), "\"abc\"");
        let long = "é".repeat(10_000);
        let quoted = shown(&long);
        assert!(quoted.chars().count() < MAX_ECHO_CHARS + 30, "{quoted}");
        assert!(quoted.ends_with("(10000 characters)"), "{quoted}");
    }
}
