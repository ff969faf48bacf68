//! KEYS patterns: a port of Redis' `stringmatchlen` (util.c), case-sensitive.
//!
//! `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` (reversed ranges swap), `\` escapes inside and
//! outside brackets. Like the C code, bytes are compared as signed `char`s in ranges, and
//! reading past the end of the pattern sees a NUL.

/// Whether `string` matches the glob `pattern`.
pub(crate) fn matches(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, &mut skip_longer)
}

fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn match_impl(pattern: &[u8], string: &[u8], skip_longer: &mut bool) -> bool {
    let (mut p, mut s) = (0usize, 0usize);
    // Remaining lengths, as in the C code (the pattern index may step back by one).
    let mut plen = pattern.len() as isize;
    let mut slen = string.len() as isize;
    while plen > 0 && slen > 0 {
        match at(pattern, p) {
            b'*' => {
                while plen > 0 && at(pattern, p + 1) == b'*' {
                    p += 1;
                    plen -= 1;
                }
                if plen == 1 {
                    return true;
                }
                while slen > 0 {
                    if match_impl(&pattern[p + 1..], &string[s..], skip_longer) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s += 1;
                    slen -= 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s += 1;
                slen -= 1;
            }
            b'[' => {
                p += 1;
                plen -= 1;
                let not = at(pattern, p) == b'^';
                if not {
                    p += 1;
                    plen -= 1;
                }
                let c = at(string, s);
                let mut matched = false;
                loop {
                    if at(pattern, p) == b'\\' && plen >= 2 {
                        p += 1;
                        plen -= 1;
                        if at(pattern, p) == c {
                            matched = true;
                        }
                    } else if at(pattern, p) == b']' {
                        break;
                    } else if plen == 0 {
                        p -= 1;
                        plen += 1;
                        break;
                    } else if plen >= 3 && at(pattern, p + 1) == b'-' {
                        let mut start = at(pattern, p) as i8;
                        let mut end = at(pattern, p + 2) as i8;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        p += 2;
                        plen -= 2;
                        let c = c as i8;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if at(pattern, p) == c {
                        matched = true;
                    }
                    p += 1;
                    plen -= 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
                slen -= 1;
            }
            other => {
                let mut lit = other;
                if other == b'\\' && plen >= 2 {
                    p += 1;
                    plen -= 1;
                    lit = at(pattern, p);
                }
                if lit != at(string, s) {
                    return false;
                }
                s += 1;
                slen -= 1;
            }
        }
        p += 1;
        plen -= 1;
        if slen == 0 {
            while at(pattern, p) == b'*' && plen > 0 {
                p += 1;
                plen -= 1;
            }
            break;
        }
    }
    plen == 0 && slen == 0
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        let yes: &[(&str, &str)] = &[
            ("*", "anything"),
            ("rs:*", "rs:app:_sessions"),
            ("a?c", "abc"),
            ("a[bx]c", "axc"),
            ("a[^b]c", "axc"),
            ("a[a-c]*", "abz"),
            ("a[c-a]*", "abz"),
            ("a\\*b", "a*b"),
            ("a[\\]]b", "a]b"),
            ("**x", "x"),
            ("a*", "a"),
            ("a[b", "ab"),
        ];
        for (p, s) in yes {
            assert!(matches(p.as_bytes(), s.as_bytes()), "{p} ~ {s}");
        }
        let no: &[(&str, &str)] = &[
            ("a?c", "ac"),
            ("a[^b]c", "abc"),
            ("a\\*b", "axb"),
            ("?", ""),
            ("a\\", "a"),
            ("abc", "ab"),
            ("ab", "abc"),
            ("*a", "bbb"),
            // As in C: an empty string matches nothing (KEYS * lists it through a fast path).
            ("*", ""),
        ];
        for (p, s) in no {
            assert!(!matches(p.as_bytes(), s.as_bytes()), "{p} !~ {s}");
        }
    }
}
